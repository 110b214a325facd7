//! Outgoing mail (password reset, spec §5): SMTP through `lettre` when `TESSERA_SMTP_URL` is set, otherwise
//! the development mailer, which writes each message as an `.eml` file into `<data_dir>/mail`.

use std::fmt;
use std::path::PathBuf;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::config::{redact_url, Config};
use crate::error::{Error, ErrorCode};

use super::AuthSetupError;

/// Where messages go.
#[derive(Clone)]
pub enum MailTransport {
    /// An SMTP server (`TESSERA_SMTP_URL`).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The development mailer: one `<uuid>.eml` file per message in this folder (created on first send).
    Files(PathBuf),
}

/// Sends plain-text mail from `TESSERA_MAIL_FROM`. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: MailTransport,
    from: Mailbox,
}

impl fmt::Debug for Mailer {
    /// Names the transport only: an SMTP URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Mailer");
        match &self.transport {
            MailTransport::Smtp(_) => debug.field("transport", &"smtp"),
            MailTransport::Files(dir) => debug.field("transport", &"files").field("dir", dir),
        };
        debug.field("from", &self.from.to_string()).finish()
    }
}

impl Mailer {
    /// SMTP when `TESSERA_SMTP_URL` is set, else the development mailer in `<data_dir>/mail`.
    pub fn from_config(config: &Config) -> Result<Self, AuthSetupError> {
        let from: Mailbox = config.auth.mail_from.trim().parse().map_err(|e| AuthSetupError {
            setting: "TESSERA_MAIL_FROM",
            reason: format!(
                "'{}' is not a mailbox such as 'Tessera <tessera@example.com>': {e}",
                config.auth.mail_from
            ),
        })?;
        let transport = match &config.auth.smtp_url {
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose()).map_err(|e| {
                    AuthSetupError {
                        setting: "TESSERA_SMTP_URL",
                        reason: format!("{} is not usable: {e}", redact_url(url.expose())),
                    }
                })?;
                MailTransport::Smtp(builder.build())
            }
            None => MailTransport::Files(config.data_dir.join("mail")),
        };
        Ok(Self { transport, from })
    }

    /// The transport in use.
    pub fn transport(&self) -> &MailTransport {
        &self.transport
    }

    /// Sends a plain-text message to `to` (an address, optionally with a display name).
    ///
    /// A malformed recipient is a validation error on `email`; a failing transport is an internal error.
    pub async fn send(&self, to: &str, subject: &str, text_body: &str) -> Result<(), Error> {
        let to: Mailbox = to.trim().parse().map_err(|e| {
            Error::invalid("email", ErrorCode::Format, format!("is not a valid e-mail address ({e})"))
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text_body.to_owned())
            .map_err(Error::internal)?;
        match &self.transport {
            MailTransport::Smtp(smtp) => {
                smtp.send(message).await.map_err(|e| Error::internal(format!("sending mail failed: {e}")))?;
            }
            MailTransport::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
                let id = AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map_err(|e| Error::internal(format!("writing mail to {} failed: {e}", dir.display())))?;
                let file = dir.join(format!("{id}.eml"));
                tracing::info!(file = %file.display(), "the development mailer wrote a message");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config(data_dir: PathBuf) -> Config {
        let mut config = Config::load(None, &|_| None).unwrap();
        config.data_dir = data_dir;
        config
    }

    #[tokio::test]
    async fn the_development_mailer_writes_one_eml_file() {
        let dir = std::env::temp_dir().join(format!("tessera-mail-{}", uuid::Uuid::now_v7()));
        let mailer = Mailer::from_config(&config(dir.clone())).unwrap();
        assert!(matches!(mailer.transport(), MailTransport::Files(_)));

        let body = "Open this link: http://x/reset";
        mailer.send("Alice <alice@example.com>", "Reset your password", body).await.unwrap();

        let files: Vec<PathBuf> =
            std::fs::read_dir(dir.join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("Subject: Reset your password"), "{text}");
        assert!(text.contains(body), "{text}");
        assert!(text.contains("alice@example.com") && text.contains("tessera@localhost"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_bad_recipient_is_a_validation_error() {
        let dir = std::env::temp_dir().join(format!("tessera-mail-{}", uuid::Uuid::now_v7()));
        let mailer = Mailer::from_config(&config(dir.clone())).unwrap();
        for to in ["not an address", "alice@", ""] {
            match mailer.send(to, "s", "b").await {
                Err(Error::Validation(errors)) => assert_eq!(errors[0].field, "email"),
                other => panic!("{to:?}: {other:?}"),
            }
        }
        assert!(!dir.join("mail").exists(), "nothing was written");
    }

    #[test]
    fn settings_errors_name_the_setting_without_the_password() {
        let mut bad_from = config(std::env::temp_dir());
        bad_from.auth.mail_from = "nobody".into();
        assert_eq!(Mailer::from_config(&bad_from).unwrap_err().setting, "TESSERA_MAIL_FROM");

        let mut smtp = config(std::env::temp_dir());
        smtp.auth.smtp_url = Some(Secret::new("smtps://user:hunter2@mail.example.com".into()));
        let mailer = Mailer::from_config(&smtp).unwrap();
        assert!(matches!(mailer.transport(), MailTransport::Smtp(_)));
        assert!(!format!("{mailer:?}").contains("hunter2"));

        smtp.auth.smtp_url = Some(Secret::new("smtps://user:hunter2@exa mple.com".into()));
        let err = Mailer::from_config(&smtp).unwrap_err();
        assert_eq!(err.setting, "TESSERA_SMTP_URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
