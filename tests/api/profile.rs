//! C1-C4: profile reads and whitelisted updates, tenant mismatch.

use bson::{doc, oid::ObjectId};
use serde_json::json;

use crate::helpers::{phone, TestApp};

#[tokio::test]
async fn profile_get_has_v1_shape_on_both_mounts() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    for base in ["/api/client", "/api/auth/client"] {
        let r = app.get(&format!("{base}/{}", reg.client_id), Some(&reg.token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let c = &r.body["client"];
        assert_eq!(c["_id"], reg.client_id.as_str());
        assert_eq!(c["phoneNumber"], reg.phone.as_str());
        for k in [
            "ownerName",
            "businessName",
            "shopName",
            "location",
            "city",
            "state",
            "gstin",
            "profileUrl",
            "createdAt",
            "updatedAt",
        ] {
            assert!(c[k].is_string(), "{k}");
        }
        assert_eq!(
            c["clientSettings"]["customerFields"],
            json!({ "address": false, "gstNo": false, "emailId": false })
        );
        assert_eq!(c["isActive"], true);
        assert_eq!(c["__v"], 0);
        assert!(c.get("passwordHash").is_none());
        assert!(c["createdAt"].as_str().unwrap().ends_with('Z'));
    }
}

#[tokio::test]
async fn profile_update_merges_settings_and_ignores_phone() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let path = format!("/api/client/{}", reg.client_id);
    let r = app
        .put(
            &path,
            Some(&reg.token),
            json!({
                "shopName": "New Shop", "city": "", "gstin": "27AADCA1111K1Z4", "phoneNumber": "9000000000",
                "clientSettings": { "customerFields": { "address": true }, "billing": { "allowNegativeStock": true } }
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = &r.body["client"];
    assert_eq!(c["shopName"], "New Shop");
    assert_eq!(c["phoneNumber"], reg.phone.as_str(), "phone is immutable");
    assert_eq!(c["clientSettings"]["customerFields"], json!({ "address": true, "gstNo": false, "emailId": false }));
    assert_eq!(c["clientSettings"]["billing"]["allowNegativeStock"], true);
    // a second patch keeps the first flag
    let r =
        app.put(&path, Some(&reg.token), json!({ "clientSettings": { "customerFields": { "emailId": true } } })).await;
    assert_eq!(
        r.body["client"]["clientSettings"]["customerFields"],
        json!({ "address": true, "gstNo": false, "emailId": true })
    );
    let cid = ObjectId::parse_str(&reg.client_id).unwrap();
    let stored = app.db.collection::<bson::Document>("clients").find_one(doc! { "_id": cid }).await.unwrap().unwrap();
    assert_eq!(stored.get_str("phoneNumber").unwrap(), reg.phone);
    // the alias mount writes too
    let r = app
        .put(&format!("/api/auth/client/{}", reg.client_id), Some(&reg.token), json!({ "ownerName": "Asha R" }))
        .await;
    assert_eq!(r.body["client"]["ownerName"], "Asha R");
}

#[tokio::test]
async fn profile_update_refuses_mass_assignment_and_bad_values() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let path = format!("/api/client/{}", reg.client_id);
    for body in [
        json!({ "isActive": false }),
        json!({ "_id": "507f1f77bcf86cd799439011" }),
        json!({ "createdAt": "2020-01-01T00:00:00Z" }),
        json!({ "passwordHash": "x" }),
        json!({ "clientSettings": { "customerFields": { "address": "yes" } } }),
        json!({ "gstin": "NOT-A-GSTIN" }),
        json!({ "profileUrl": "not a url" }),
        json!({ "ownerName": "A" }),
        json!({}),
        json!({ "phoneNumber": "9000000000" }),
    ] {
        let r = app.put(&path, Some(&reg.token), body.clone()).await;
        r.assert_envelope(400);
    }
    let cid = ObjectId::parse_str(&reg.client_id).unwrap();
    let stored = app.db.collection::<bson::Document>("clients").find_one(doc! { "_id": cid }).await.unwrap().unwrap();
    assert!(stored.get_bool("isActive").unwrap());
    assert_eq!(stored.get_i32("__v").unwrap(), 0, "nothing was written");
}

#[tokio::test]
async fn password_can_be_set_and_changed_through_the_profile() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let path = format!("/api/client/{}", reg.client_id);
    let r = app.put(&path, Some(&reg.token), json!({ "password": "first-password" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["client"]["hasPassword"], true);
    app.put(&path, Some(&reg.token), json!({ "password": "second-password" })).await.assert_envelope(400);
    app.put(&path, Some(&reg.token), json!({ "password": "second-password", "currentPassword": "nope-nope" }))
        .await
        .assert_envelope(400);
    let r = app
        .put(&path, Some(&reg.token), json!({ "password": "second-password", "currentPassword": "first-password" }))
        .await;
    assert_eq!(r.status, 200);
    let login =
        app.post("/api/auth/login", None, json!({ "phoneNumber": reg.phone, "password": "second-password" })).await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn another_clients_id_is_403_in_path_body_and_query() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let r = app.get(&format!("/api/client/{}", b.client_id), Some(&a.token)).await;
    r.assert_envelope(403);
    assert_eq!(r.code(), "TENANT_MISMATCH");
    app.put(&format!("/api/auth/client/{}", b.client_id), Some(&a.token), json!({ "shopName": "Hacked" }))
        .await
        .assert_envelope(403);
    app.put(
        &format!("/api/client/{}", a.client_id),
        Some(&a.token),
        json!({ "shopName": "X", "clientId": b.client_id }),
    )
    .await
    .assert_envelope(403);
    app.get(&format!("/api/client/{}?clientId={}", a.client_id, b.client_id), Some(&a.token))
        .await
        .assert_envelope(403);
    app.post("/api/auth/logout", Some(&a.token), json!({ "clientId": b.client_id })).await.assert_envelope(403);
    let bid = ObjectId::parse_str(&b.client_id).unwrap();
    let stored = app.db.collection::<bson::Document>("clients").find_one(doc! { "_id": bid }).await.unwrap().unwrap();
    assert_eq!(stored.get_str("shopName").unwrap(), "");
    // a malformed id in the path is a 403 as well (it is not the token's id), never a 500
    app.get("/api/client/not-an-id", Some(&a.token)).await.assert_envelope(403);
}
