//! `ETag` / `If-Match` on users: a GET answers the user's version, a PATCH naming a version that
//! is no longer current is refused with 412 and writes nothing (no field, no ended session), and
//! a PATCH naming none still applies to the current user.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::etags::{assert_precondition_failed, etag_of, send};
use crate::helpers::{slug, spawn_app};

#[tokio::test]
async fn a_user_edit_on_a_stale_etag_is_refused_and_writes_nothing() {
    let Some(app) = spawn_app().await else { return };
    let tenant = app.register(&slug("etag-user")).await;
    let owner = tenant.token.as_str();
    let email = format!("sam@{}.example", tenant.slug);
    let (status, created) = app
        .post(
            "/v1/users",
            owner,
            json!({"email": email, "name": "Sam", "password": "a long enough password", "role": "STAFF"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/v1/users/{}", created["id"].as_str().unwrap());
    let sam = app
        .login(&tenant.slug, &email, "a long enough password")
        .await;
    let (first, _) = etag_of(&app, &path, owner).await;

    let (status, second, body) = send(
        &app,
        Method::PATCH,
        &path,
        owner,
        Some(&first),
        Some(json!({"name": "Sam Second"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = second.expect("PATCH answers the new ETag");
    assert_ne!(second, first);
    assert_eq!(etag_of(&app, &path, owner).await.0, second);

    // A deactivation based on the first version is refused: nothing written, no session ended.
    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &path,
        owner,
        Some(&first),
        Some(json!({"active": false, "name": "Lost"})),
    )
    .await;
    assert_precondition_failed(status, &body);
    let (etag, stored) = etag_of(&app, &path, owner).await;
    assert_eq!(etag, second, "the version did not move");
    assert_eq!(
        (stored["name"].as_str(), stored["active"].as_bool()),
        (Some("Sam Second"), Some(true))
    );
    let (status, me) = app.get("/v1/me", &sam).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refused deactivation ended a session: {me}"
    );

    // Without If-Match, and with `*`, the edit applies to the current user.
    let (status, third, body) = send(
        &app,
        Method::PATCH,
        &path,
        owner,
        None,
        Some(json!({"role": "MANAGER"})),
    )
    .await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("MANAGER")),
        "{body}"
    );
    let third = third.expect("PATCH answers the new ETag");
    assert_ne!(third, second);
    let (status, fourth, body) = send(
        &app,
        Method::PATCH,
        &path,
        owner,
        Some("*"),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{body}"
    );
    assert_eq!(etag_of(&app, &path, owner).await.0, fourth.unwrap());
    let (status, _) = app.get("/v1/me", &sam).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a deactivation still ends the sessions"
    );
}

#[tokio::test]
async fn if_match_on_a_missing_or_foreign_user_is_not_found_and_a_password_change_moves_the_etag() {
    let Some(app) = spawn_app().await else { return };
    let tenant = app.register(&slug("etag-user-404")).await;
    let other = app.register(&slug("etag-user-else")).await;
    for id in [uuid::Uuid::now_v7().to_string(), other.owner_id.clone()] {
        for tag in ["*", "\"1\""] {
            let (status, _, body) = send(
                &app,
                Method::PATCH,
                &format!("/v1/users/{id}"),
                &tenant.token,
                Some(tag),
                Some(json!({"name": "Nobody"})),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "If-Match {tag}: {body}");
        }
    }
    let (status, _) = app
        .get(format!("/v1/users/{}", other.owner_id), &other.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, stored) = etag_of(&app, &format!("/v1/users/{}", other.owner_id), &other.token).await;
    assert_eq!(stored["name"], "Owner", "nothing written across tenants");

    // The user's own password change is an edit too: an If-Match read before it is stale.
    let path = format!("/v1/users/{}", tenant.owner_id);
    let (before, _) = etag_of(&app, &path, &tenant.token).await;
    let (status, body) = app
        .post(
            "/v1/me/password",
            &tenant.token,
            json!({"currentPassword": "correct horse battery", "newPassword": "a much better passphrase"}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let token = app
        .login(
            &tenant.slug,
            &format!("owner@{}.example", tenant.slug),
            "a much better passphrase",
        )
        .await;
    let (after, _) = etag_of(&app, &path, &token).await;
    assert_ne!(after, before);
    let (status, _, body): (StatusCode, Option<String>, Value) = send(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(&before),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_precondition_failed(status, &body);
}
