//! Issue 13, "a newcomer's first hour": the docs page works offline, the OpenAPI document
//! says what the server does (unique operation ids, integer query parameters, nullable
//! push results, push operations per type), an empty `clientId` is absent, dealer creates
//! need no `clientId`, and register names every missing field.
//! (The document's validity is checked by openapi-spec-validator in scripts/validate.sh, the
//! Postman flow by newman in scripts/newman.sh.)

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::helpers::{phone, TestApp};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

/// `src="..."` and `href="..."` values of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut out = vec![];
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// The page and every asset it references come from our server (nothing from a CDN), with a
/// content type a browser accepts, and the page's CSP allows no other host: the docs render
/// on a shop's LAN without internet. (A headless-Chromium screenshot of it is
/// docs/swagger-ui.png.)
#[tokio::test]
async fn docs_page_and_every_asset_it_references_are_served_by_the_server() {
    let app = TestApp::spawn().await;
    let page = app.http.get(format!("{}/api/docs", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().path(), "/api/docs/", "/api/docs redirects to the page's folder");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(!csp.contains("http"), "the docs CSP allows no other host: {csp}");
    let html = page.text().await.unwrap();
    let refs = references(&html);
    assert!(refs.len() >= 4, "the page references its scripts and styles: {refs:?}");
    let mut seen = BTreeSet::new();
    for r in &refs {
        assert!(!r.contains("//"), "{r}: an asset from another host (the page must work offline)");
        let url = format!("{}/api/docs/{}", app.base, r.trim_start_matches("./"));
        let resp = app.http.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
        let body = resp.text().await.unwrap();
        assert!(!body.is_empty(), "{url} is empty");
        if r.ends_with(".js") {
            assert!(ctype.contains("javascript"), "{url}: {ctype}");
        } else if r.ends_with(".css") {
            assert!(ctype.contains("css"), "{url}: {ctype}");
        }
        if r.contains("swagger-initializer") {
            assert!(body.contains("/api/openapi.json"), "the page loads our document: {body}");
        }
        if r.ends_with(".css") {
            // images of the stylesheet are inline (data:) or ours
            for (i, _) in body.match_indices("url(") {
                let u = &body[i + 4..(i + 200).min(body.len())];
                assert!(!u.trim_start_matches(['"', '\'']).starts_with("http"), "{url}: {u}");
            }
        }
        seen.insert(r.clone());
    }
    for needed in ["swagger-ui-bundle.js", "swagger-initializer.js", "swagger-ui.css"] {
        assert!(seen.iter().any(|s| s.ends_with(needed)), "{needed} not referenced: {seen:?}");
    }
}

/// Every operation id is unique (openapi-spec-validator refused the document when two
/// handlers named `payment_report` gave the same id): generalised to every operation.
#[tokio::test]
async fn every_operation_id_is_unique() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{m} {path}: no operationId"));
                ids.entry(id.to_string()).or_default().push(format!("{m} {path}"));
            }
        }
    }
    let dup: Vec<_> = ids.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(dup.is_empty(), "duplicate operation ids: {dup:?}");
    assert!(ids.len() > 80, "{} operations", ids.len());
    assert!(ids.contains_key("dashboard_payment_report") && ids.contains_key("payment_report"));
}

/// `limit`, `offset`, `skip` and `months` are integers in every operation (they were strings
/// in 31 of 33 places), and the server takes the integers a client generated from the
/// document sends.
#[tokio::test]
async fn integer_query_parameters_are_typed_integer_and_accepted() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let mut typed = 0;
    let mut wrong = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            for p in item.get(*m).and_then(|op| op["parameters"].as_array()).into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "query" && viveka::openapi::INTEGER_QUERY_PARAMS.contains(&name) {
                    if p["schema"]["type"] == "integer" {
                        typed += 1;
                    } else {
                        wrong.push(format!("{m} {path} ?{name}: {}", p["schema"]));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "query parameters not typed integer: {wrong:#?}");
    assert!(typed >= 33, "{typed} integer query parameters");
    let shop = app.register(&phone()).await;
    for path in [
        format!("/api/business/items/{}?limit=2&offset=0", shop.client_id),
        "/api/dashboard/reports/payments?limit=5&offset=0".to_string(),
        "/api/v2/sync/pull?limit=10".to_string(),
    ] {
        let r = app.get(&path, Some(&shop.token)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
}

/// A rejected push operation answers `"result": null`, and the document says so (the schema
/// required an object); the operations are documented one schema per entity x kind.
#[tokio::test]
async fn push_document_matches_a_rejected_operation_and_lists_every_operation_type() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let result_type = &doc["components"]["schemas"]["OpOutcome"]["properties"]["result"]["type"];
    assert_eq!(result_type, &json!(["object", "null"]));
    let variants = doc["components"]["schemas"]["PushRequest"]["properties"]["operations"]["items"]["oneOf"]
        .as_array()
        .expect("operations as oneOf")
        .iter()
        .map(|v| {
            assert!(v["examples"][0]["payload"].is_object(), "an example per operation type: {v}");
            let e = v["properties"]["entity"]["enum"][0].as_str().unwrap_or("?");
            format!("{e} {}", v["properties"]["kind"]["enum"][0].as_str().unwrap_or("?"))
        })
        .collect::<BTreeSet<_>>();
    for expected in [
        "item create",
        "item update",
        "item delete",
        "customer create",
        "customer update",
        "customer delete",
        "invoice create",
        "payment create",
    ] {
        assert!(variants.contains(expected), "{expected} missing: {variants:?}");
    }
    let shop = app.register(&phone()).await;
    let op = uuid::Uuid::new_v4().to_string();
    let r = app
        .post(
            "/api/v2/sync/push",
            Some(&shop.token),
            json!({ "operations": [{ "opId": op, "entity": "item", "kind": "create", "payload": { "name": "X" } }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["results"][0]["status"], "rejected");
    assert!(r.body["results"][0].get("result").is_some_and(Value::is_null), "{}", r.body);
}

/// `"clientId": ""` (or blank) in a body is absent, not a foreign client (it answered 403
/// TENANT_MISMATCH); a foreign one still answers 403. Generalised: every authenticated
/// operation of the document whose body has a `clientId` property is sent `{"clientId": ""}`
/// and must not answer 403; so is every query `clientId=` (empty).
#[tokio::test]
async fn an_empty_client_id_is_absent_in_every_body_and_query() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    let r = app.post("/api/business/item-groups", t, json!({ "clientId": "", "name": "Engine Parts" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post("/api/business/item-groups", t, json!({ "clientId": "  ", "name": "Brakes" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let foreign = bson::oid::ObjectId::new().to_hex();
    let r = app.post("/api/business/item-groups", t, json!({ "clientId": foreign, "name": "Tyres" })).await;
    r.assert_envelope(403);
    assert_eq!(r.code(), "TENANT_MISMATCH");

    let doc = app.get("/api/openapi.json", None).await.body;
    let mut bodies = 0;
    let mut queries = 0;
    let mut problems = vec![];
    let id_param = regex::Regex::new(r"\{[^}]+\}").unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.contains("logout") {
            continue;
        }
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            if op.get("security").is_none() {
                continue;
            }
            // path parameters other than clientId get a well-formed unknown id
            let url = path.replace("{clientId}", &shop.client_id);
            let url = id_param.replace_all(&url, foreign.as_str()).to_string();
            let mut schema =
                op.pointer("/requestBody/content/application~1json/schema").cloned().unwrap_or(Value::Null);
            if let Some(r) = schema["$ref"].as_str() {
                schema = doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone();
            }
            if schema["properties"].get("clientId").is_some() {
                bodies += 1;
                let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
                let r = app.raw(method, &url, t, Some(&json!({ "clientId": "" }))).await;
                if r.status == 403 {
                    problems.push(format!("{m} {path} body clientId \"\": {} {}", r.status, r.body));
                }
            }
            let takes_query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query" && p["name"] == "clientId"));
            if takes_query && *m == "get" {
                queries += 1;
                let sep = if url.contains('?') { '&' } else { '?' };
                let r = app.get(&format!("{url}{sep}clientId="), t).await;
                if r.status == 403 {
                    problems.push(format!("{m} {path} ?clientId=: {} {}", r.status, r.body));
                }
            }
        }
    }
    assert!(problems.is_empty(), "an empty clientId answered 403:\n{}", problems.join("\n"));
    assert!(bodies >= 20, "{bodies} operations with a body clientId");
    assert!(queries >= 5, "{queries} operations with a query clientId");
}

/// D1 (dealer create) needs no `clientId`, like every other create; an empty one is absent,
/// a malformed one is still a 400 and a foreign one a 403.
#[tokio::test]
async fn dealer_create_needs_no_client_id() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    let r = app.post("/api/dealer", t, json!({ "name": "Sharma Distributors" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["dealer"]["clientId"], json!(shop.client_id));
    let r = app.post("/api/dealer", t, json!({ "clientId": "", "name": "Gupta Traders" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post("/api/dealer", t, json!({ "clientId": shop.client_id, "name": "Mehta Agencies" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r =
        app.post("/api/dealer", t, json!({ "clientId": bson::oid::ObjectId::new().to_hex(), "name": "Other" })).await;
    r.assert_envelope(403);
    // the other dealer creates too: an order needs its dealer and items, not a clientId
    let r = app.post("/api/dealer/orders", t, json!({ "dealerId": "x" })).await;
    r.assert_envelope(400);
    assert!(!r.errors().contains("clientId"), "{}", r.errors());
}

/// Register names every missing required field at once, not only the first serde met.
#[tokio::test]
async fn register_reports_every_missing_field() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/auth/register", None, json!({})).await;
    r.assert_envelope(400);
    for f in ["phoneNumber", "otp", "ownerName", "businessName"] {
        assert!(r.errors().contains(&format!("{f}: is required")), "{f} not reported: {}", r.errors());
    }
    let r = app.post("/api/auth/register", None, json!({ "phoneNumber": phone(), "otp": "1234" })).await;
    r.assert_envelope(400);
    assert_eq!(r.errors(), "ownerName: is required | businessName: is required");
    // a present but invalid field still says what is wrong with it
    let r = app.post("/api/auth/register", None, json!({ "phoneNumber": "12", "otp": "1234", "ownerName": "A" })).await;
    r.assert_envelope(400);
    assert!(!r.errors().contains("phoneNumber: is required"), "{}", r.errors());
    assert!(r.errors().contains("businessName: is required"), "{}", r.errors());
    assert!(r.errors().contains("ownerName: must be at least 2 characters"), "{}", r.errors());
}

/// The docs refer only to files in the repository (they pointed at an `ENDPOINTS.md` that was
/// not in it): every relative Markdown link of README.md and docs/*.md resolves, and every
/// file name `X.md` / `scripts/...` / `src/...` named in their text exists.
#[test]
fn docs_refer_only_to_files_in_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let named = regex::Regex::new(r"(?:^|[\s`(\[])((?:scripts|src|docs|tests|migrations|postman)/[A-Za-z0-9_./-]*[A-Za-z0-9_]|[A-Za-z0-9_-]+\.md)\b").unwrap();
    let mut missing = vec![];
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let dir = page.parent().unwrap();
        for c in link.captures_iter(&text) {
            let target = c[1].split('#').next().unwrap();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            if !dir.join(target).exists() {
                missing.push(format!("{}: link {target}", page.display()));
            }
        }
        for c in named.captures_iter(&text) {
            let name = &c[1];
            if name.contains("NNNN") {
                continue; // a pattern (migrations/NNNN_name.json), not a file
            }
            checked += 1;
            let found = if name.contains('/') {
                root.join(name).exists() || dir.join(name).exists()
            } else {
                root.join(name).exists() || root.join("docs").join(name).exists()
            };
            if !found {
                missing.push(format!("{}: names {name}", page.display()));
            }
        }
    }
    assert!(missing.is_empty(), "docs refer to files that are not in the repository:\n{}", missing.join("\n"));
    assert!(checked > 20, "{checked} references checked");
}
