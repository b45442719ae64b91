//! Issue 15: staff with roles. The route x role matrix is generated from the router's own
//! OpenAPI document (every protected operation declares `x-permission`); sessions per user;
//! deactivation and role changes on the next request, on two instances; invitations, joining,
//! approval, lockout, seats; the owner's protections.

use std::collections::BTreeMap;

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use viveka::access::{Grants, Permission, Role};

use crate::helpers::{phone, Registered, TestApp};

/// A signed-in staff member.
pub(crate) struct Staff {
    pub(crate) id: String,
    pub(crate) phone: String,
    pub(crate) token: String,
    pub(crate) session: String,
}

/// Invite a user of `role` as the owner, then accept with an OTP and a password on `device`.
pub(crate) async fn hire(app: &TestApp, owner: &Registered, role: &str, employee: &str, device: &str) -> Staff {
    let p = phone();
    let inv = app
        .post(
            "/api/staff",
            Some(&owner.token),
            json!({ "phoneNumber": p, "firstName": format!("{role} user"), "employeeId": employee, "role": role }),
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    assert_eq!(inv.body["user"]["status"], "pending_approval", "{}", inv.body);
    let code = app.otp(&p, "staff").await;
    let acc = app
        .post(
            "/api/staff/accept",
            None,
            json!({ "clientId": owner.client_id, "phoneNumber": p, "otp": code, "password": "secret-pass-1", "deviceId": device }),
        )
        .await;
    assert_eq!(acc.status, 200, "{}", acc.body);
    assert_eq!(acc.body["user"]["status"], "active");
    Staff {
        id: acc.body["user"]["_id"].as_str().unwrap().to_string(),
        phone: p,
        token: acc.body["token"].as_str().unwrap().to_string(),
        session: acc.body["deviceSessionId"].as_str().unwrap().to_string(),
    }
}

async fn staff_login(app: &TestApp, phone: &str, password: &str, device: &str) -> crate::helpers::Resp {
    app.post("/api/staff/login", None, json!({ "phoneNumber": phone, "password": password, "deviceId": device })).await
}

/// Every document of the shop except sessions and counters (what a refused call must not touch).
async fn shop_state(app: &TestApp, client: &str) -> BTreeMap<String, Vec<Document>> {
    let cid = ObjectId::parse_str(client).unwrap();
    let mut out = BTreeMap::new();
    for coll in app.db.list_collection_names().await.unwrap() {
        if coll.starts_with('_') || ["devicesessions", "ratelimits", "otpsessions", "counters"].contains(&coll.as_str())
        {
            continue;
        }
        let filter = if coll == "clients" {
            doc! { "_id": cid }
        } else {
            doc! { "clientId": cid }
        };
        let mut docs: Vec<Document> = app
            .db
            .collection::<Document>(&coll)
            .find(filter)
            .sort(doc! { "_id": 1 })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        // the login bookkeeping of users moves with every sign-in, not with a refused call
        for d in &mut docs {
            d.remove("lastLoginAt");
            d.remove("loginAttempts");
        }
        out.insert(coll, docs);
    }
    out
}

/// `{name}` parameters of a path replaced by `ids` (a missing one by a fresh id).
fn fill(path: &str, ids: &BTreeMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        out.push_str(&ids.get(name).cloned().unwrap_or_else(|| ObjectId::new().to_hex()));
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// The protected operations of the document: (method, path, permission).
fn protected(doc: &Value) -> Vec<(String, String, Option<Permission>)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security").is_none() {
                continue;
            }
            let p = op["x-permission"].as_str().and_then(Permission::parse);
            out.push((method.clone(), path.clone(), p));
        }
    }
    out
}

/// Issue 15, "Tests": the route x role matrix, generated from the router's own route table. A
/// pair the role's defaults deny answers 403 `FORBIDDEN` in the envelope and writes nothing; an
/// allowed pair is never refused for its permission; it fails when a protected route declares
/// no permission.
#[tokio::test]
async fn route_by_role_matrix_from_the_openapi_document() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let item = crate::billing::seed_item(&app, &owner.client_id, "Bulb", 5000, 50).await;
    let mut users = Vec::new();
    for (i, role) in
        [Role::Admin, Role::Manager, Role::Cashier, Role::StockKeeper, Role::Accountant].into_iter().enumerate()
    {
        users.push((role, hire(&app, &owner, role.as_str(), &format!("E{i}"), &format!("dev-{i}")).await));
    }
    // a user the matrix may deactivate or change without locking out the ones signed in
    let spare = app
        .post(
            "/api/staff",
            Some(&owner.token),
            json!({ "phoneNumber": phone(), "firstName": "Spare", "employeeId": "SPARE", "role": "cashier" }),
        )
        .await
        .body["user"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = app.get("/api/openapi.json", None).await.body;
    let ops = protected(&doc);
    let undeclared: Vec<_> = ops.iter().filter(|(_, _, p)| p.is_none()).map(|(m, p, _)| format!("{m} {p}")).collect();
    assert!(undeclared.is_empty(), "protected routes without a valid x-permission: {undeclared:?}");
    assert!(ops.len() > 80, "{} protected operations", ops.len());

    let ids: BTreeMap<&str, String> = BTreeMap::from([
        ("clientId", owner.client_id.clone()),
        ("itemId", item.clone()),
        ("userId", spare.clone()),
        ("invoiceId", ObjectId::new().to_hex()),
    ]);
    // denied pairs first: all refused, nothing written
    let before = shop_state(&app, &owner.client_id).await;
    let (mut denied, mut problems) = (0, Vec::new());
    for (role, u) in &users {
        let grants = role.defaults();
        for (method, path, p) in &ops {
            let p = p.unwrap();
            if grants.contains(p) {
                continue;
            }
            denied += 1;
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != "get" && method != "delete").then(|| json!({ "clientId": owner.client_id }));
            let r = app.raw(m, &fill(path, &ids), Some(&u.token), body.as_ref()).await;
            if r.status != 403
                || r.code() != "FORBIDDEN"
                || !r.body["message"].as_str().unwrap_or("").contains(p.as_str())
            {
                problems.push(format!("{role:?} {method} {path}: {} {}", r.status, r.body));
            }
        }
    }
    assert!(problems.is_empty(), "denied pairs not refused:\n{}", problems.join("\n"));
    assert!(denied > 150, "{denied} denied pairs");
    assert_eq!(shop_state(&app, &owner.client_id).await, before, "a refused call wrote something");

    // allowed pairs: never refused for a permission (logout last: it ends the caller's session)
    for (role, u) in &users {
        let grants = role.defaults();
        for (method, path, p) in &ops {
            if !grants.contains(p.unwrap()) || path == "/api/auth/logout" {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != "get" && method != "delete").then(|| json!({}));
            let r = app.raw(m, &fill(path, &ids), Some(&u.token), body.as_ref()).await;
            if r.status == 403 && r.code() == "FORBIDDEN" {
                problems.push(format!("{role:?} {method} {path}: {}", r.body));
            }
            assert_ne!(r.status, 500, "{role:?} {method} {path}: {}", r.body);
        }
    }
    assert!(problems.is_empty(), "allowed pairs refused:\n{}", problems.join("\n"));
}

/// Worked by hand from issue 15's table (not from `Role::defaults`): a few pairs through real
/// requests.
#[tokio::test]
async fn the_issue_table_by_hand() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let item = crate::billing::seed_item(&app, &owner.client_id, "Pen", 1000, 10).await;
    let cashier = hire(&app, &owner, "cashier", "CASH01", "c").await;
    let keeper = hire(&app, &owner, "stock_keeper", "STK01", "s").await;
    let accountant = hire(&app, &owner, "accountant", "ACC01", "a").await;
    let sale =
        json!({ "clientId": owner.client_id, "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10 });
    // a cashier sells; the sale is theirs to make
    let r = app.post("/api/business/invoices/generatewithproducts", Some(&cashier.token), sale.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // a cashier sees no reports, a stock keeper cannot sell, an accountant cannot sell
    app.get("/api/dashboard/summary", Some(&cashier.token)).await.assert_envelope(403);
    for t in [&keeper.token, &accountant.token] {
        let r = app.post("/api/business/invoices/generatewithproducts", Some(t), sale.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "FORBIDDEN"), "{}", r.body);
    }
    // a stock keeper creates items but edits no prices
    let created = app
        .post(
            "/api/business/items",
            Some(&keeper.token),
            json!({ "clientId": owner.client_id, "name": "Ink", "price": 20 }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let edit = app
        .put(&format!("/api/business/items/{}/{item}", owner.client_id), Some(&keeper.token), json!({ "price": 12 }))
        .await;
    assert_eq!((edit.status.as_u16(), edit.code()), (403, "FORBIDDEN"), "{}", edit.body);
    // an accountant reads the reports and the audit trail, a cashier does not
    assert_eq!(app.get("/api/dashboard/summary", Some(&accountant.token)).await.status, 200);
    assert_eq!(app.get("/api/audit", Some(&accountant.token)).await.status, 200);
    app.get("/api/audit", Some(&cashier.token)).await.assert_envelope(403);
    // staff management is the owner's and admins'
    app.get("/api/staff", Some(&accountant.token)).await.assert_envelope(403);
    assert_eq!(app.get("/api/staff", Some(&owner.token)).await.status, 200);
}

/// One active device per USER: two staff and the owner work at once; a new login of one user
/// ends only that user's other session.
#[tokio::test]
async fn a_new_login_ends_only_that_users_other_session() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let a = hire(&app, &owner, "cashier", "A1", "phone-a").await;
    let b = hire(&app, &owner, "cashier", "B1", "phone-b").await;
    for t in [&owner.token, &a.token, &b.token] {
        assert_eq!(app.get("/api/business/items/".to_string().as_str(), Some(t)).await.status, 404);
        assert_eq!(app.get(&format!("/api/business/items/{}", owner.client_id), Some(t)).await.status, 200);
    }
    let again = staff_login(&app, &a.phone, "secret-pass-1", "tablet-a").await;
    assert_eq!(again.status, 200, "{}", again.body);
    let a2 = again.body["token"].as_str().unwrap().to_string();
    let items = format!("/api/business/items/{}", owner.client_id);
    let old = app.get(&items, Some(&a.token)).await;
    assert_eq!((old.status.as_u16(), old.code()), (401, "SESSION_REPLACED"), "{}", old.body);
    for t in [&a2, &b.token, &owner.token] {
        assert_eq!(app.get(&items, Some(t)).await.status, 200, "the other users stay signed in");
    }
    // the owner's own new login ends only the owner's other session
    let o2 = app.login_otp(&owner.phone, "owner-tablet").await;
    assert_eq!(o2.status, 200, "{}", o2.body);
    assert_eq!(app.get(&items, Some(&owner.token)).await.status, 401);
    assert_eq!(app.get(&items, Some(&a2)).await.status, 200);
    assert_eq!(app.get(&items, Some(&b.token)).await.status, 200);
    let active = app
        .count("devicesessions", doc! { "clientId": ObjectId::parse_str(&owner.client_id).unwrap(), "isActive": true })
        .await;
    assert_eq!(active, 3, "one active session per user");
}

/// Deactivation ends the user's sessions at once; a role change takes effect on the next
/// request; on a second instance both within `SESSION_CACHE_MS` (polled, never slept on).
#[tokio::test]
async fn deactivation_and_role_changes_apply_on_the_next_request_on_both_instances() {
    let app = TestApp::spawn_with(&[("SESSION_CACHE_MS", "300")]).await;
    let other = app.second_instance().await;
    let owner = app.register(&phone()).await;
    let m = hire(&app, &owner, "manager", "M1", "m").await;
    let summary = "/api/dashboard/summary";
    // warm both instances' caches
    assert_eq!(app.get(summary, Some(&m.token)).await.status, 200);
    assert_eq!(other.get(summary, Some(&m.token)).await.status, 200);

    // demoted to cashier: refused reports on the next request here, and soon on the other
    let ch = app
        .raw(Method::PATCH, &format!("/api/staff/{}", m.id), Some(&owner.token), Some(&json!({ "role": "cashier" })))
        .await;
    assert_eq!(ch.status, 200, "{}", ch.body);
    assert_eq!(app.get(summary, Some(&m.token)).await.status, 403);
    poll_until(&other, summary, &m.token, 403).await;

    let d = app.post(&format!("/api/staff/{}/deactivate", m.id), Some(&owner.token), json!({})).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let items = format!("/api/business/items/{}", owner.client_id);
    let r = app.get(&items, Some(&m.token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "SESSION_ENDED"), "{}", r.body);
    poll_until(&other, &items, &m.token, 401).await;
    // and cannot log in again until reactivated
    assert_eq!(staff_login(&app, &m.phone, "secret-pass-1", "m").await.status, 401);
    let re = app.post(&format!("/api/staff/{}/reactivate", m.id), Some(&owner.token), json!({})).await;
    assert_eq!(re.status, 200, "{}", re.body);
    assert_eq!(staff_login(&app, &m.phone, "secret-pass-1", "m").await.status, 200);
}

/// Ask `path` until it answers `status` (at most 10 s: far above `SESSION_CACHE_MS`).
async fn poll_until(app: &TestApp, path: &str, token: &str, status: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = app.get(path, Some(token)).await;
        if r.status == status {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{path} still answers {} {}", r.status, r.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The owner cannot be demoted, changed or deactivated; only the owner manages admins; the
/// owner role is never given.
#[tokio::test]
async fn the_owner_is_protected_and_only_the_owner_manages_admins() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let admin = hire(&app, &owner, "admin", "ADM1", "adm").await;
    let list = app.get("/api/staff", Some(&owner.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["users"][0]["_id"], owner.client_id.as_str(), "the owner first: {}", list.body);
    assert_eq!(list.body["users"][0]["role"], "super_admin");
    let owner_path = format!("/api/staff/{}", owner.client_id);
    for t in [&owner.token, &admin.token] {
        let demote = app.raw(Method::PATCH, &owner_path, Some(t), Some(&json!({ "role": "cashier" }))).await;
        assert_eq!(demote.status, 409, "{}", demote.body);
        let off = app.post(&format!("{owner_path}/deactivate"), Some(t), json!({})).await;
        assert_eq!(off.status, 409, "{}", off.body);
    }
    let crown = app
        .post(
            "/api/staff",
            Some(&owner.token),
            json!({ "phoneNumber": phone(), "firstName": "X", "employeeId": "X1", "role": "super_admin" }),
        )
        .await;
    crown.assert_envelope(400);
    let second_admin = app
        .post(
            "/api/staff",
            Some(&admin.token),
            json!({ "phoneNumber": phone(), "firstName": "Y", "employeeId": "Y1", "role": "admin" }),
        )
        .await;
    assert_eq!((second_admin.status.as_u16(), second_admin.code()), (403, "FORBIDDEN"), "{}", second_admin.body);
    let cashier = app
        .post(
            "/api/staff",
            Some(&admin.token),
            json!({ "phoneNumber": phone(), "firstName": "Z", "employeeId": "Z1", "role": "cashier" }),
        )
        .await;
    assert_eq!(cashier.status, 201, "an admin manages the other roles: {}", cashier.body);
    let self_demote = app
        .raw(
            Method::PATCH,
            &format!("/api/staff/{}", admin.id),
            Some(&admin.token),
            Some(&json!({ "role": "cashier" })),
        )
        .await;
    assert_eq!(self_demote.status, 403, "an admin is managed by the owner: {}", self_demote.body);
    // unique per shop
    let dup = app
        .post(
            "/api/staff",
            Some(&owner.token),
            json!({ "phoneNumber": phone(), "firstName": "D", "employeeId": "ADM1", "role": "cashier" }),
        )
        .await;
    assert_eq!((dup.status.as_u16(), dup.code()), (409, "DUPLICATE"), "{}", dup.body);
    assert!(dup.body["message"].as_str().unwrap().contains("employeeId"), "{}", dup.body);
}

/// Self-registration waits for approval; five wrong passwords lock the user; seats.
#[tokio::test]
async fn join_approval_lockout_and_seats() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let p = phone();
    let code = app.otp(&p, "staff").await;
    let join = app
        .post(
            "/api/staff/join",
            None,
            json!({ "clientId": owner.client_id, "phoneNumber": p, "otp": code, "firstName": "Ravi", "employeeId": "R1", "password": "ravi-pass-1" }),
        )
        .await;
    assert_eq!(join.status, 201, "{}", join.body);
    let id = join.body["user"]["_id"].as_str().unwrap().to_string();
    let pending = staff_login(&app, &p, "ravi-pass-1", "r").await;
    assert_eq!((pending.status.as_u16(), pending.code()), (403, "ACCOUNT_PENDING"), "{}", pending.body);
    let wrong_pending = staff_login(&app, &p, "not-his-pass", "r").await;
    assert_eq!(wrong_pending.status, 401, "pending is told only after correct credentials");
    let ok = app.post(&format!("/api/staff/{id}/approve"), Some(&owner.token), json!({ "role": "stock_keeper" })).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["user"]["role"], "stock_keeper");
    let twice = app.post(&format!("/api/staff/{id}/approve"), Some(&owner.token), json!({})).await;
    assert_eq!(twice.status, 409);
    assert_eq!(staff_login(&app, &p, "ravi-pass-1", "r").await.status, 200);

    // lockout: 5 failures lock, even the right password is refused until the lock ends
    for i in 0..5 {
        let r = staff_login(&app, &p, "wrong-pass-x", "r").await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    let locked = staff_login(&app, &p, "ravi-pass-1", "r").await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let cid = ObjectId::parse_str(&owner.client_id).unwrap();
    let user = app
        .db
        .collection::<Document>("users")
        .find_one(doc! { "clientId": cid, "phoneNumber": &p })
        .await
        .unwrap()
        .unwrap();
    assert!(user.get_datetime("lockedUntil").is_ok(), "{user:?}");
    // the lock ends (moved into the past here instead of waiting 15 minutes)
    app.db
        .collection::<Document>("users")
        .update_one(
            doc! { "_id": user.get_object_id("_id").unwrap() },
            doc! { "$set": { "lockedUntil": bson::DateTime::from_millis(0) } },
        )
        .await
        .unwrap();
    assert_eq!(staff_login(&app, &p, "ravi-pass-1", "r").await.status, 200);

    // seats: 2 (the owner and Ravi are signed in): a third user is refused, the owner never
    let set = app
        .put(
            &format!("/api/client/{}", owner.client_id),
            Some(&owner.token),
            json!({ "clientSettings": { "staff": { "maxActiveUsers": 2 } } }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let third = hire_pending(&app, &owner, "T1").await;
    let code = app.otp(&third, "staff").await;
    let acc = app
        .post(
            "/api/staff/accept",
            None,
            json!({ "clientId": owner.client_id, "phoneNumber": third, "otp": code, "password": "third-pass-1" }),
        )
        .await;
    assert_eq!((acc.status.as_u16(), acc.code()), (409, "SEATS_FULL"), "{}", acc.body);
    // Ravi logs in again on another device: his own seat
    assert_eq!(staff_login(&app, &p, "ravi-pass-1", "r2").await.status, 200);
    let o2 = app.login_otp(&owner.phone, "owner-2").await;
    assert_eq!(o2.status, 200, "the owner is never refused a seat: {}", o2.body);
}

async fn hire_pending(app: &TestApp, owner: &Registered, employee: &str) -> String {
    let p = phone();
    let r = app
        .post(
            "/api/staff",
            Some(&owner.token),
            json!({ "phoneNumber": p, "firstName": "T", "employeeId": employee, "role": "cashier" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    p
}

/// A shop's grants change a role for that shop only; a user's own grants too; the effective
/// set is answered and enforced.
#[tokio::test]
async fn shop_and_user_grants_are_enforced() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let c = hire(&app, &owner, "cashier", "C1", "c").await;
    let summary = "/api/dashboard/summary";
    app.get(summary, Some(&c.token)).await.assert_envelope(403);
    let g = Grants { grant: vec![Permission::SalesView], deny: vec![] };
    let set = app
        .put(
            &format!("/api/client/{}", owner.client_id),
            Some(&owner.token),
            json!({ "clientSettings": { "staff": { "roleGrants": { "cashier": g } } } }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(app.get(summary, Some(&c.token)).await.status, 200, "the shop granted sales_view to cashiers");
    let deny = app
        .raw(
            Method::PATCH,
            &format!("/api/staff/{}", c.id),
            Some(&owner.token),
            Some(&json!({ "permissions": { "deny": ["sales_view"] } })),
        )
        .await;
    assert_eq!(deny.status, 200, "{}", deny.body);
    assert!(
        !deny.body["user"]["effectivePermissions"].as_array().unwrap().contains(&json!("sales_view")),
        "{}",
        deny.body
    );
    app.get(summary, Some(&c.token)).await.assert_envelope(403);
    // another shop's cashiers are untouched by this shop's grants
    let other = app.register(&phone()).await;
    let oc = hire(&app, &other, "cashier", "C1", "oc").await;
    app.get(summary, Some(&oc.token)).await.assert_envelope(403);
    // an admin ends a cashier's session; its token is dead
    let end = app.delete(&format!("/api/staff/sessions/{}", c.session), Some(&owner.token)).await;
    assert_eq!(end.status, 200, "{}", end.body);
    let r = app.get(&format!("/api/business/items/{}", owner.client_id), Some(&c.token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "SESSION_ENDED"));
}

/// Migration 0013 on a database from before staff: every shop gets its owner user, sessions
/// their user, and the owner's v1 token keeps working.
#[tokio::test]
async fn migration_gives_every_shop_its_owner_user_and_keeps_old_tokens() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&owner.client_id).unwrap();
    // as before staff: no user, a session without userId
    app.db.collection::<Document>("users").delete_many(doc! { "clientId": cid }).await.unwrap();
    app.db
        .collection::<Document>("devicesessions")
        .update_many(doc! { "clientId": cid }, doc! { "$unset": { "userId": "" } })
        .await
        .unwrap();
    app.db.collection::<Document>("_migrations").delete_one(doc! { "_id": 13 }).await.unwrap();
    let applied = viveka::db::migrations::run(&app.db).await.unwrap();
    assert_eq!(applied, vec!["0013_staff"]);
    let u = app.db.collection::<Document>("users").find_one(doc! { "_id": cid }).await.unwrap().unwrap();
    assert_eq!((u.get_str("role").unwrap(), u.get_str("status").unwrap()), ("super_admin", "active"));
    assert_eq!(app.count("devicesessions", doc! { "clientId": cid, "userId": cid }).await, 1);
    assert_eq!(app.get(&format!("/api/business/items/{}", owner.client_id), Some(&owner.token)).await.status, 200);
    // idempotent
    app.db.collection::<Document>("_migrations").delete_one(doc! { "_id": 13 }).await.unwrap();
    viveka::db::migrations::run(&app.db).await.unwrap();
    assert_eq!(app.count("users", doc! { "clientId": cid }).await, 1);
}

/// The audit trail records each listed staff action with before and after values: logins and
/// logouts, failed logins, invitations, role changes, deactivation, session ends, settings and
/// price changes, stock adjustments (with their reason).
#[tokio::test]
async fn audit_entries_for_staff_settings_and_price_actions() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let item = crate::billing::seed_item(&app, &owner.client_id, "Lamp", 5000, 5).await;
    let c = hire(&app, &owner, "cashier", "C1", "c-dev").await;
    assert_eq!(staff_login(&app, &c.phone, "wrong-pass-x", "c-dev").await.status, 401);
    let relog = staff_login(&app, &c.phone, "secret-pass-1", "c-dev").await;
    assert_eq!(relog.status, 200);
    let ch = app
        .raw(Method::PATCH, &format!("/api/staff/{}", c.id), Some(&owner.token), Some(&json!({ "role": "manager" })))
        .await;
    assert_eq!(ch.status, 200, "{}", ch.body);
    let session = relog.body["deviceSessionId"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/staff/sessions/{session}"), Some(&owner.token)).await.status, 200);
    assert_eq!(app.post(&format!("/api/staff/{}/deactivate", c.id), Some(&owner.token), json!({})).await.status, 200);
    let set = app
        .put(
            &format!("/api/client/{}", owner.client_id),
            Some(&owner.token),
            json!({ "clientSettings": { "billing": { "requireFullPayment": true } } }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let edit = app
        .put(
            &format!("/api/business/items/{}/{item}", owner.client_id),
            Some(&owner.token),
            json!({ "price": 55.5, "stock": 9 }),
        )
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);

    let log = app.get("/api/audit?limit=100", Some(&owner.token)).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let entries = log.body["entries"].as_array().unwrap_or_else(|| panic!("{}", log.body)).clone();
    let find = |action: &str| -> Value {
        entries.iter().find(|e| e["action"] == action).cloned().unwrap_or_else(|| panic!("no {action}: {entries:?}"))
    };
    let change = |e: &Value, field: &str| -> (Value, Value) {
        let c = e["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .unwrap_or_else(|| panic!("{field} in {e}"));
        (c["before"].clone(), c["after"].clone())
    };
    assert_eq!(find("staff_invited")["who"]["userId"], owner.client_id.as_str());
    assert_eq!(find("staff_activated")["who"]["userId"], c.id.as_str());
    assert_eq!(find("login_failed")["who"]["userId"], c.id.as_str());
    assert_eq!(find("login")["who"]["userId"], c.id.as_str());
    assert_eq!(change(&find("staff_changed"), "role"), (json!("cashier"), json!("manager")));
    assert_eq!(find("session_ended")["entityId"], session);
    assert_eq!(change(&find("staff_deactivated"), "status"), (json!("active"), json!("deactivated")));
    let settings = find("settings_changed");
    assert_eq!(settings["who"]["role"], "super_admin");
    assert!(settings["changes"][0]["field"].as_str().unwrap().starts_with("clientSettings"), "{settings}");
    assert_eq!(change(&find("price_changed"), "price"), (json!(5000), json!(5550)), "paise before and after");
    let stock = find("stock_adjusted");
    assert_eq!(change(&stock, "stock"), (json!(5), json!(9)));
    assert!(stock["reason"].as_str().unwrap().contains("5 -> 9"), "{stock}");
    // the owner's logout is the newest entry once made
    assert_eq!(app.post("/api/auth/logout", Some(&owner.token), json!({})).await.status, 200);
    let o2 = app.login_otp(&owner.phone, "o2").await;
    let t2 = o2.body["token"].as_str().unwrap();
    let newest = app.get("/api/audit?limit=3", Some(t2)).await.body["entries"].clone();
    let actions: Vec<_> =
        newest.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions[..2], ["login".to_string(), "logout".to_string()], "{newest}");
}

/// Approvals: a cashier's counter price needs a manager's one-time approval token, bound to the
/// exact line (cart, item, price, quantity), used once; the approver is named and recorded on
/// the line and in the audit trail; wrong PINs are limited.
#[tokio::test]
async fn approval_token_is_single_use_and_bound_to_its_line() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let item = crate::billing::seed_item(&app, &owner.client_id, "Cable", 10_000, 20).await;
    let cashier = hire(&app, &owner, "cashier", "C1", "till").await;
    let other_cashier = hire(&app, &owner, "cashier", "C2", "till-2").await;
    let manager = hire(&app, &owner, "manager", "M1", "office").await;
    assert_eq!(app.put("/api/staff/me/pin", Some(&manager.token), json!({ "pin": "4821" })).await.status, 200);
    assert_eq!(app.put("/api/staff/me/pin", Some(&other_cashier.token), json!({ "pin": "1111" })).await.status, 200);
    app.put("/api/staff/me/pin", Some(&manager.token), json!({ "pin": "12" })).await.assert_envelope(400);
    let cart = app.post("/api/business/carts", Some(&cashier.token), json!({})).await.body["cart"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let line = |price: f64, qty: i64, token: Option<&str>| {
        let mut b = json!({ "cartId": cart, "itemId": item, "unitPrice": price, "quantity": qty });
        if let Some(t) = token {
            b["approvalToken"] = json!(t);
        }
        b
    };
    // the catalog price needs nothing; a counter price needs an approval
    assert_eq!(app.post("/api/business/carts/add-item", Some(&cashier.token), line(100.0, 1, None)).await.status, 200);
    let no = app.post("/api/business/carts/add-item", Some(&cashier.token), line(90.0, 2, None)).await;
    assert_eq!((no.status.as_u16(), no.code()), (403, "APPROVAL_REQUIRED"), "{}", no.body);
    let ask = |approver: &str, pin: &str, price: f64| {
        json!({ "approverId": approver, "pin": pin, "action": "price_override", "reason": "old stock, customer bargained",
                "cartId": cart, "itemId": item, "unitPrice": price, "quantity": 2 })
    };
    let wrong = app.post("/api/staff/approvals", Some(&cashier.token), ask(&manager.id, "0000", 90.0)).await;
    assert_eq!((wrong.status.as_u16(), wrong.code()), (403, "FORBIDDEN"), "{}", wrong.body);
    let peer = app.post("/api/staff/approvals", Some(&cashier.token), ask(&other_cashier.id, "1111", 90.0)).await;
    assert_eq!(peer.status, 403, "a cashier cannot approve a counter price: {}", peer.body);
    let ok = app.post("/api/staff/approvals", Some(&cashier.token), ask(&manager.id, "4821", 90.0)).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["approver"]["userId"], manager.id.as_str());
    let token = ok.body["approvalToken"].as_str().unwrap().to_string();
    // bound: another price, another quantity, another requester are refused (and keep it unused)
    for (who, body) in [
        (&cashier.token, line(80.0, 2, Some(&token))),
        (&cashier.token, line(90.0, 3, Some(&token))),
        (&other_cashier.token, line(90.0, 2, Some(&token))),
    ] {
        let r = app.post("/api/business/carts/add-item", Some(who), body).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "APPROVAL_INVALID"), "{}", r.body);
    }
    let used = app.post("/api/business/carts/add-item", Some(&cashier.token), line(90.0, 2, Some(&token))).await;
    assert_eq!(used.status, 200, "{}", used.body);
    assert_eq!(used.body["cartItem"]["approvedBy"]["userId"], manager.id.as_str(), "{}", used.body);
    assert_eq!(used.body["cartItem"]["priceOverridden"], true);
    // single use
    let again = app.post("/api/business/carts/add-item", Some(&cashier.token), line(90.0, 2, Some(&token))).await;
    assert_eq!((again.status.as_u16(), again.code()), (403, "APPROVAL_INVALID"), "{}", again.body);
    // a manager sets a counter price on their own right
    let own = app.post("/api/business/carts/add-item", Some(&manager.token), line(95.0, 1, None)).await;
    assert_eq!(own.status, 200, "{}", own.body);
    // audited: the grant and the override name the approver and the reason
    let log = app.get("/api/audit?action=price_override", Some(&owner.token)).await.body["entries"].clone();
    let approved = log.as_array().unwrap().iter().find(|e| e["who"]["userId"] == cashier.id.as_str()).unwrap().clone();
    assert_eq!(approved["approver"]["userId"], manager.id.as_str(), "{approved}");
    assert_eq!(approved["reason"], "old stock, customer bargained");
    assert_eq!(
        app.get("/api/audit?action=approval_granted", Some(&owner.token)).await.body["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // wrong PINs are limited per approver
    let mut last = 0;
    for _ in 0..6 {
        last = app
            .post("/api/staff/approvals", Some(&cashier.token), ask(&manager.id, "9999", 90.0))
            .await
            .status
            .as_u16();
    }
    assert_eq!(last, 429);
}
