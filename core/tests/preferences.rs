//! Per-user display preferences (language, time zone) on both backends: defaults, validation that loses
//! nothing, partial updates, clearing, and an audit entry per change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tessera_core::auth::audit::AuditFilter;
use tessera_core::auth::users::NewUser;
use tessera_core::auth::{Auth, Principal};
use tessera_core::events::Actor;
use tessera_core::locale::Locale;
use tessera_core::{Database, Error};

async fn setup(db: &Database) -> (Auth, Principal, Actor) {
    let cache = tessera_core::testing::cache_for(db).await;
    let auth = tessera_core::testing::services_with(db.clone(), cache, &[]).auth().clone();
    let new = NewUser { username: "ana".into(), ..NewUser::default() };
    let user = auth.create_user(&Actor::system(), &new).await.unwrap();
    let principal = Principal { user_id: user.id, username: "ana".into(), session_id: None, api_token: None };
    let actor = Actor { user_id: Some(user.id), ..Actor::default() };
    (auth, principal, actor)
}

tessera_core::conformance! {
    async fn preferences_start_unset_and_are_saved(db: Database) {
        let (auth, me, actor) = setup(&db).await;
        let prefs = auth.preferences(&me).await.unwrap();
        assert_eq!(prefs.locale, None);
        assert_eq!(prefs.time_zone, None);
        assert_eq!(prefs.tz(), chrono_tz::Tz::UTC);

        let saved = auth.set_preferences(&actor, &me, &json!({ "locale": "es", "time_zone": "Europe/Madrid" })).await.unwrap();
        assert_eq!(saved.locale, Some(Locale::Es));
        assert_eq!(saved.time_zone.as_deref(), Some("Europe/Madrid"));
        assert_eq!(auth.preferences(&me).await.unwrap(), saved);

        // An absent field keeps its value; null (or an empty zone) clears it.
        let saved = auth.set_preferences(&actor, &me, &json!({ "locale": "en" })).await.unwrap();
        assert_eq!(saved.locale, Some(Locale::En));
        assert_eq!(saved.time_zone.as_deref(), Some("Europe/Madrid"));
        let saved = auth.set_preferences(&actor, &me, &json!({ "locale": null, "time_zone": "" })).await.unwrap();
        assert_eq!(auth.preferences(&me).await.unwrap(), saved);
        assert_eq!(saved.locale, None);
        assert_eq!(saved.time_zone, None);

        let filter = AuditFilter { action: Some("PreferencesChanged".into()), ..AuditFilter::default() };
        let page = auth.audit_page(&filter).await.unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
    }

    async fn bad_preferences_name_their_fields_and_change_nothing(db: Database) {
        let (auth, me, actor) = setup(&db).await;
        auth.set_preferences(&actor, &me, &json!({ "locale": "es", "time_zone": "America/Bogota" })).await.unwrap();
        let before = auth.preferences(&me).await.unwrap();
        let err = auth
            .set_preferences(&actor, &me, &json!({ "locale": "fr", "time_zone": "Mars/Olympus" }))
            .await
            .unwrap_err();
        let Error::Validation(errors) = err else { panic!("expected a validation error, got {err:?}") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["locale", "time_zone"]);
        let err = auth.set_preferences(&actor, &me, &json!({ "theme": "dark" })).await.unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
        let err = auth.set_preferences(&actor, &me, &json!({ "locale": "es-ES" })).await.unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{err:?}");
        assert_eq!(auth.preferences(&me).await.unwrap(), before);
    }
}
