//! The SMTP mailer (`TESSERA_SMTP_URL`) in a real SMTP exchange over TCP. No external mail server is
//! available on the build machine, so the test runs a minimal SMTP server of its own (below): it greets,
//! answers EHLO without STARTTLS or AUTH, accepts MAIL/RCPT/DATA and records the envelope and the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tessera_core::auth::Mailer;
use tessera_core::{Config, Error, StoreError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message as the SMTP server received it.
#[derive(Debug, Default, Clone)]
struct Received {
    /// The command verbs of the conversation up to and including DATA (EHLO, MAIL, RCPT, DATA).
    commands: Vec<String>,
    /// The MAIL FROM argument as sent, e.g. `<noreply@example.com>`.
    mail_from: String,
    /// The RCPT TO arguments as sent.
    rcpt_to: Vec<String>,
    /// The message (headers and body) with CRLF line ends, dot-unstuffed, without the final `.` line.
    data: String,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// Starts the test SMTP server on 127.0.0.1 and returns its port and what it receives.
async fn start_smtp_server() -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox: Inbox = Arc::default();
    let shared = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let inbox = shared.clone();
            tokio::spawn(async move {
                let _ = converse(stream, inbox).await;
            });
        }
    });
    (port, inbox)
}

/// The text after the first ':' of `MAIL FROM:<…>` / `RCPT TO:<…>`, trimmed.
fn argument(command: &str) -> String {
    command.split_once(':').map(|(_, rest)| rest.trim().to_owned()).unwrap_or_default()
}

/// One SMTP conversation (RFC 5321, the minimum lettre needs).
async fn converse(stream: TcpStream, inbox: Inbox) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 localhost ESMTP test\r\n").await?;
    let mut current = Received::default();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(()); // The client closed the connection.
        }
        let command = line.trim_end_matches(['\r', '\n']).to_owned();
        let verb = command.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        current.commands.push(verb.clone());
        let reply = match verb.as_str() {
            "EHLO" | "HELO" => "250-localhost\r\n250 OK\r\n",
            "MAIL" => {
                current.mail_from = argument(&command);
                current.rcpt_to.clear();
                "250 OK\r\n"
            }
            "RCPT" => {
                current.rcpt_to.push(argument(&command));
                "250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await? == 0 {
                        return Ok(()); // Closed in the middle of the message: nothing is recorded.
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-stuffing: a leading '.' was doubled by the client.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                current.data = data;
                let received = std::mem::take(&mut current);
                inbox.lock().unwrap().push(received);
                "250 OK queued\r\n"
            }
            "RSET" => {
                current = Received::default();
                "250 OK\r\n"
            }
            "NOOP" => "250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 Command not implemented\r\n",
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

fn config(smtp_url: &str) -> Config {
    Config::load(None, &|name: &str| match name {
        "TESSERA_SMTP_URL" => Some(smtp_url.to_owned()),
        "TESSERA_MAIL_FROM" => Some("Tessera <noreply@example.com>".to_owned()),
        _ => None,
    })
    .unwrap()
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_goes_through_a_real_smtp_conversation() {
    let (port, inbox) = start_smtp_server().await;
    // Plain `smtp://` is unencrypted SMTP in lettre (no STARTTLS attempted); the default port would be 587.
    let mailer = Mailer::from_config(&config(&format!("smtp://127.0.0.1:{port}"))).unwrap();
    assert!(format!("{mailer:?}").contains("smtp"), "{mailer:?}");

    let subject = "Reset your Tessera password";
    // Short ASCII lines (under 76 characters), so lettre sends the body as 7bit, not quoted-printable.
    let body = "Hello Alice,\nOpen http://127.0.0.1/reset?token=abc123 to choose a new password.\n";
    tokio::time::timeout(Duration::from_secs(30), mailer.send("Alice <alice@example.com>", subject, body))
        .await
        .expect("the SMTP exchange must not hang")
        .unwrap();

    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    let message = &received[0];
    assert_eq!(message.commands.first().map(String::as_str), Some("EHLO"), "{message:?}");
    assert!(
        !message.commands.iter().any(|c| c == "STARTTLS" || c == "AUTH"),
        "neither was advertised: {message:?}"
    );
    assert_eq!(message.mail_from, "<noreply@example.com>", "{message:?}");
    assert_eq!(message.rcpt_to, ["<alice@example.com>"], "{message:?}");

    let (headers, text) = message.data.split_once("\r\n\r\n").expect("headers, blank line, body");
    let header_lines: Vec<&str> = headers.split("\r\n").collect();
    assert!(header_lines.contains(&"Subject: Reset your Tessera password"), "{headers}");
    assert!(
        header_lines.iter().any(|l| l.starts_with("From: ") && l.contains("<noreply@example.com>")),
        "{headers}"
    );
    assert!(
        header_lines.iter().any(|l| l.starts_with("To: ") && l.contains("<alice@example.com>")),
        "{headers}"
    );
    assert!(header_lines.contains(&"Content-Transfer-Encoding: 7bit"), "short ASCII stays 7bit: {headers}");
    assert!(header_lines.iter().any(|l| l.starts_with("Content-Type: text/plain")), "{headers}");
    assert_eq!(text.trim_end(), body.trim_end().replace('\n', "\r\n"), "{}", message.data);

    // The transport is reusable: a second message is a second conversation.
    mailer.send("bob@example.com", "Second", "Hi Bob").await.unwrap();
    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[1].rcpt_to, ["<bob@example.com>"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_smtp_server_is_an_internal_error() {
    let mailer = Mailer::from_config(&config(&format!("smtp://127.0.0.1:{}", closed_port()))).unwrap();
    let outcome =
        tokio::time::timeout(Duration::from_secs(30), mailer.send("alice@example.com", "Subject", "Body"))
            .await
            .expect("a refused connection must fail promptly");
    match outcome {
        Err(Error::Store(StoreError::Internal(cause))) => {
            assert!(cause.contains("sending mail failed"), "{cause}");
        }
        other => panic!("expected an internal error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_recipient_is_a_validation_error_and_nothing_is_sent() {
    let (port, inbox) = start_smtp_server().await;
    let mailer = Mailer::from_config(&config(&format!("smtp://127.0.0.1:{port}"))).unwrap();
    for to in ["not an address", "alice@", ""] {
        match mailer.send(to, "Subject", "Body").await {
            Err(Error::Validation(errors)) => {
                assert_eq!(errors.len(), 1, "{to:?}: {errors:?}");
                assert_eq!(errors[0].field, "email", "{to:?}: {errors:?}");
            }
            other => panic!("{to:?}: expected a validation error on email, got {other:?}"),
        }
    }
    assert!(inbox.lock().unwrap().is_empty(), "nothing reached the SMTP server");
}
