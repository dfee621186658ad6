//! Every operation the emulator serves, checked against its response schema in Clerk's OpenAPI
//! spec: `$ref`, `allOf`, `oneOf` (with discriminators), required fields, types, `nullable`, enums
//! and `additionalProperties: false`. The stateful operations are exercised by a scenario that
//! makes every kind of object; every mocked one is called once with arguments synthesized from
//! its schemas. The operations checked must be exactly the operations served.
//!
//! The spec is found by `clerk_emulator::load_openapi_spec` (`$CLERK_OPENAPI_SPEC`, else
//! `../shared/clerk/bapi-openapi.yml` beside the workspace). Without it the tests are skipped,
//! unless `REQUIRE_OPENAPI` is set. It is parsed and its `$ref`s followed by
//! `kosmo_codegen::openapi::Document`, the loader `cargo xtask check-openapi` uses; the schema
//! validation below is this test's own.

use crate::common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;

use clerk_emulator::{Config, Document, Mode, example_value};
use common::{Api, load_spec};
use serde_json::{Map, Value, json};

struct Validator<'a> {
    spec: &'a Document,
    /// The operations (upper-case method, spec path) whose answers were checked.
    covered: RefCell<BTreeSet<(String, String)>>,
}

impl<'a> Validator<'a> {
    /// Follows `$ref`s with the shared resolver; one it cannot follow (external, dangling or
    /// endless) fails the test rather than validating against nothing.
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        let resolved = self.spec.resolve(schema);
        assert!(
            !resolved.is_null() || schema.is_null(),
            "unresolvable $ref in {schema}"
        );
        resolved
    }

    fn new(spec: &'a Document) -> Validator<'a> {
        Validator {
            spec,
            covered: RefCell::default(),
        }
    }

    /// The lowest 2xx status an operation declares and that response's JSON schema (`None`
    /// for a response without content).
    fn success(&self, method: &str, path: &str) -> (u16, Option<&Value>) {
        let operation = self
            .spec
            .operation(method, path)
            .unwrap_or_else(|| panic!("no operation {method} {path} in the spec"));
        let (status, response) = operation["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(status, response)| Some((status.parse::<u16>().ok()?, response)))
            .filter(|(status, _)| (200..300).contains(status))
            .min_by_key(|(status, _)| *status)
            .unwrap_or_else(|| panic!("{method} {path} declares no 2xx response"));
        let response = self.resolve(response);
        (
            status,
            response["content"]["application/json"].get("schema"),
        )
    }

    /// Checks an answer of an operation and counts the operation as covered.
    fn check_answer(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        self.covered
            .borrow_mut()
            .insert((method.to_ascii_uppercase(), path.to_string()));
        let (expected_status, schema) = self.success(method, path);
        let mut errors = Vec::new();
        if status != expected_status {
            errors.push(format!("status {status}, not {expected_status}"));
        }
        match schema {
            Some(schema) => errors.extend(self.validate(schema, body)),
            None if body.is_null() => {}
            None => errors.push(format!("a body where the spec has none: {body}")),
        }
        errors
    }

    fn schema(&self, name: &str) -> &Value {
        &self.spec.root()["components"]["schemas"][name]
    }

    fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors);
        errors
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if value.is_null() {
            let nullable = schema["nullable"] == json!(true);
            if !nullable {
                errors.push(format!("{at}: null but not nullable"));
            }
            return;
        }
        if let Some(parts) = schema["allOf"].as_array() {
            for part in parts {
                self.check(part, value, at, errors);
            }
        }
        if let Some(options) = schema["oneOf"].as_array() {
            self.check_one_of(schema, options, value, at, errors);
        }
        if let Some(options) = schema["anyOf"].as_array() {
            let fits = options.iter().any(|o| self.validate(o, value).is_empty());
            if !fits {
                errors.push(format!("{at}: matches no anyOf option"));
            }
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        let type_ok = match schema["type"].as_str() {
            None => true,
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("array") => value.is_array(),
            Some("object") => value.is_object(),
            Some(other) => panic!("unknown type {other}"),
        };
        if !type_ok {
            errors.push(format!("{at}: {value} is not of type {}", schema["type"]));
            return;
        }
        if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{at}[{i}]"), errors);
            }
        }
        if let Some(object) = value.as_object() {
            let properties = schema["properties"].as_object();
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !object.contains_key(name) {
                    errors.push(format!("{at}: missing required field {name}"));
                }
            }
            for (key, field) in object {
                match properties.and_then(|p| p.get(key)) {
                    Some(field_schema) => {
                        self.check(field_schema, field, &format!("{at}.{key}"), errors)
                    }
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{at}: unexpected field {key}"))
                        }
                        Some(extra @ Value::Object(_)) => {
                            self.check(extra, field, &format!("{at}.{key}"), errors)
                        }
                        _ => {}
                    },
                }
            }
        }
    }

    fn check_one_of(
        &self,
        schema: &Value,
        options: &[Value],
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let discriminator = schema["discriminator"]["propertyName"].as_str();
        let tag = discriminator.and_then(|name| value[name].as_str());
        if let (Some(tag), Some(mapping)) = (tag, schema["discriminator"]["mapping"].as_object()) {
            match mapping.get(tag) {
                Some(target) => self.check(&json!({ "$ref": target }), value, at, errors),
                None => errors.push(format!("{at}: discriminator {tag} is not mapped")),
            }
            return;
        }
        let fitting = options
            .iter()
            .filter(|o| self.validate(o, value).is_empty())
            .count();
        if fitting != 1 {
            errors.push(format!(
                "{at}: matches {fitting} oneOf options, not exactly one"
            ));
        }
    }
}

/// A stateful operation's 200 answer must fit its schema.
fn assert_valid(validator: &Validator<'_>, method: &str, path: &str, value: &Value) {
    let errors = validator.check_answer(method, path, 200, value);
    assert!(errors.is_empty(), "{method} {path}: {errors:#?}\n{value:#}");
}

#[tokio::test]
async fn every_operation_served_matches_clerks_openapi_schema() {
    let Some(spec) = load_spec() else {
        return;
    };
    let v = Validator::new(&spec);
    let api = Api::start_with(Config::without_limits().with_openapi(Arc::clone(&spec))).await;
    every_kind_of_stateful_object(&api, &v).await;
    let operations = api.emulator.operations();
    let stateful: BTreeSet<(String, String)> = operations
        .iter()
        .filter(|o| o.mode == Mode::Stateful)
        .map(|o| (o.method.clone(), o.path.clone()))
        .collect();
    let unchecked: Vec<_> = stateful.difference(&v.covered.borrow()).cloned().collect();
    assert!(
        unchecked.is_empty(),
        "stateful operations the scenario does not check (a new stateful handler needs its \
         objects made in `every_kind_of_stateful_object`): {unchecked:#?}"
    );

    let mut failures = Vec::new();
    for operation in operations.iter().filter(|o| o.mode == Mode::Mocked) {
        let (method, path) = (operation.method.as_str(), operation.path.as_str());
        let answer = call_with_synthesized_arguments(&api, &spec, method, path).await;
        let mut errors = v.check_answer(method, path, answer.status, &answer.body);
        if answer.headers.get("x-emulator-mock").map(|h| h.as_bytes()) != Some(b"true") {
            errors.push("no `X-Emulator-Mock: true` header".to_string());
        }
        if !errors.is_empty() {
            failures.push(format!("{method} {path}: {errors:#?}\n{:#}", answer.body));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the mocked operations do not answer per their schema:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Checked = served: every operation the emulator lists, each non-deprecated one of the spec.
    let served: BTreeSet<(String, String)> = operations
        .iter()
        .map(|o| (o.method.clone(), o.path.clone()))
        .collect();
    assert_eq!(*v.covered.borrow(), served);
    let in_spec = spec_operations(&spec);
    let not_served: Vec<_> = in_spec.difference(&served).collect();
    assert!(not_served.is_empty(), "{not_served:#?}");
    let mocked = operations.len() - stateful.len();
    println!(
        "checked {} operations: {} stateful, {mocked} mocked",
        served.len(),
        stateful.len()
    );
}

/// Every non-deprecated operation of the spec as (upper-case method, path).
fn spec_operations(spec: &Document) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in spec.root()["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let is_method = [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str());
            if is_method && operation["deprecated"] != json!(true) {
                operations.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A parameter value as text: strings as they are, other values as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) if !text.is_empty() => text.clone(),
        Value::String(_) | Value::Null => "x".to_string(),
        other => other.to_string(),
    }
}

/// An object with just the required fields of `schema`, each synthesized.
fn required_only(spec: &Document, schema: &Value) -> Value {
    let merged = spec.merged_schema(schema);
    let mut object = Map::new();
    for name in merged["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap();
        object.insert(
            name.to_string(),
            example_value(spec, &merged["properties"][name]),
        );
    }
    Value::Object(object)
}

/// Calls an operation with its path placeholders, required query parameters and required body
/// fields filled from their schemas.
async fn call_with_synthesized_arguments(
    api: &Api,
    spec: &Document,
    method: &str,
    path: &str,
) -> common::Answer {
    let operation = spec.operation(method, path).unwrap();
    let parameters: Vec<&Value> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| spec.resolve(p))
        .collect();
    let mut url = String::new();
    for segment in path.split('/').skip(1) {
        url.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let parameter = parameters
                    .iter()
                    .find(|p| p["name"] == name && p["in"] == "path");
                let value = parameter.map_or(json!(name), |p| example_value(spec, &p["schema"]));
                url.push_str(&encode(&as_text(&value)));
            }
            None => url.push_str(segment),
        }
    }
    let query: Vec<String> = parameters
        .iter()
        .filter(|p| p["in"] == "query" && p["required"] == json!(true))
        .map(|p| {
            let value = example_value(spec, &p["schema"]);
            let name = p["name"].as_str().unwrap();
            match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| format!("{name}={}", encode(&as_text(item))))
                    .collect::<Vec<_>>()
                    .join("&"),
                value => format!("{name}={}", encode(&as_text(&value))),
            }
        })
        .collect();
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let mut request = api.request(method, &url);
    if let Some(body) = operation.get("requestBody") {
        let content = &spec.resolve(body)["content"];
        if let Some(schema) = content["application/json"].get("schema") {
            let merged = spec.merged_schema(schema);
            let body = if merged["type"] == "array" {
                json!([required_only(spec, &merged["items"])])
            } else {
                required_only(spec, schema)
            };
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
        } else if let Some(schema) = content["multipart/form-data"].get("schema") {
            let boundary = "conformance-boundary";
            let mut form = String::new();
            for name in spec.merged_schema(schema)["required"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = name.as_str().unwrap();
                form += &format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.png\"\r\nContent-Type: image/png\r\n\r\nx\r\n"
                );
            }
            form += &format!("--{boundary}--\r\n");
            request = request
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(form);
        }
    }
    api.send(request).await
}

/// Makes every kind of object the stateful handlers keep and checks each answer.
async fn every_kind_of_stateful_object(api: &Api, v: &Validator<'_>) {
    // Users, with every kind of identification and second factor.
    let user = api
        .ok(
            "POST",
            "/users",
            Some(json!({
                "email_address": ["ada@example.test", "ada.reserved@example.test"],
                "email_address_identification_status": ["verified", "reserved"],
                "phone_number": ["+15555550100"],
                "web3_wallet": ["0x0000000000000000000000000000000000000001"],
                "username": "ada",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "external_id": "ext-ada",
                "password": "correct-horse-battery-staple",
                "totp_secret": "AICJ3HCXKO4KOU6NDHPCHAZWUJS4ZH3C",
                "backup_codes": ["one", "two"],
                "public_metadata": {"plan": "pro"},
                "legal_accepted_at": "2024-01-31T12:00:00Z",
                "locale": "en",
            })),
        )
        .await;
    let user_id = user["id"].as_str().unwrap().to_string();
    assert_valid(v, "post", "/users", &user);
    let plain = api.user("plain@example.test").await;
    assert_valid(v, "post", "/users", &plain);
    assert_valid(v, "get", "/users", &api.ok("GET", "/users", None).await);
    assert_valid(
        v,
        "get",
        "/users/count",
        &api.ok("GET", "/users/count", None).await,
    );
    let user_path = format!("/users/{user_id}");
    assert_valid(
        v,
        "get",
        "/users/{user_id}",
        &api.ok("GET", &user_path, None).await,
    );
    let updated = api
        .ok("PATCH", &user_path, Some(json!({"first_name": "Augusta"})))
        .await;
    assert_valid(v, "patch", "/users/{user_id}", &updated);
    let merged = api
        .ok(
            "PATCH",
            &format!("{user_path}/metadata"),
            Some(json!({"private_metadata": {"note": "vip"}})),
        )
        .await;
    assert_valid(v, "patch", "/users/{user_id}/metadata", &merged);

    // Sessions.
    let session = api
        .ok("POST", "/sessions", Some(json!({"user_id": user_id})))
        .await;
    assert_valid(v, "post", "/sessions", &session);
    let sessions = api
        .ok("GET", &format!("/sessions?user_id={user_id}"), None)
        .await;
    assert_valid(v, "get", "/sessions", &sessions);
    let session_path = format!("/sessions/{}", session["id"].as_str().unwrap());
    assert_valid(
        v,
        "get",
        "/sessions/{session_id}",
        &api.ok("GET", &session_path, None).await,
    );
    let paged = api
        .ok(
            "GET",
            &format!("/sessions?user_id={user_id}&paginated=true"),
            None,
        )
        .await;
    let session_schema = v.schema("Session");
    assert!(v.validate(session_schema, &paged["data"][0]).is_empty());
    assert!(paged["total_count"].is_i64());
    let token = api
        .ok("POST", &format!("{session_path}/tokens"), Some(json!({})))
        .await;
    assert_valid(v, "post", "/sessions/{session_id}/tokens", &token);
    let template_token = api
        .ok(
            "POST",
            &format!("{session_path}/tokens/custom_hasura"),
            Some(json!({"expires_in_seconds": 300})),
        )
        .await;
    assert_valid(
        v,
        "post",
        "/sessions/{session_id}/tokens/{template_name}",
        &template_token,
    );
    for format in ["token", "cookie"] {
        let refreshed = api
            .ok(
                "POST",
                &format!("{session_path}/refresh"),
                Some(json!({
                    "expired_token": token["jwt"],
                    "refresh_token": "rt_test",
                    "request_origin": "https://app.example.test",
                    "format": format,
                })),
            )
            .await;
        assert_valid(v, "post", "/sessions/{session_id}/refresh", &refreshed);
    }
    let revoked = api
        .ok("POST", &format!("{session_path}/revoke"), None)
        .await;
    assert_valid(v, "post", "/sessions/{session_id}/revoke", &revoked);

    for action in ["ban", "unban", "lock", "unlock"] {
        let answer = api.ok("POST", &format!("{user_path}/{action}"), None).await;
        assert_valid(v, "post", &format!("/users/{{user_id}}/{action}"), &answer);
    }

    // Organizations, memberships and organization invitations.
    let org = api
        .ok(
            "POST",
            "/organizations",
            Some(json!({"name": "Analytical Engines", "created_by": user_id, "public_metadata": {"tier": "gold"}})),
        )
        .await;
    assert_valid(v, "post", "/organizations", &org);
    let org_id = org["id"].as_str().unwrap().to_string();
    let org_path = format!("/organizations/{org_id}");
    assert_valid(
        v,
        "get",
        "/organizations",
        &api.ok("GET", "/organizations?include_members_count=true&include_missing_member_with_elevated_permissions=true", None).await,
    );
    assert_valid(
        v,
        "get",
        "/organizations/{organization_id}",
        &api.ok("GET", &org_path, None).await,
    );
    let renamed = api
        .ok(
            "PATCH",
            &org_path,
            Some(json!({"name": "Difference Engines"})),
        )
        .await;
    assert_valid(v, "patch", "/organizations/{organization_id}", &renamed);
    let org_metadata = api
        .ok(
            "PATCH",
            &format!("{org_path}/metadata"),
            Some(json!({"private_metadata": {"x": 1}})),
        )
        .await;
    assert_valid(
        v,
        "patch",
        "/organizations/{organization_id}/metadata",
        &org_metadata,
    );

    let plain_id = plain["id"].as_str().unwrap();
    let membership = api
        .ok(
            "POST",
            &format!("{org_path}/memberships"),
            Some(json!({"user_id": plain_id, "role": "org:member"})),
        )
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/memberships",
        &membership,
    );
    let memberships = api
        .ok("GET", &format!("{org_path}/memberships"), None)
        .await;
    assert_valid(
        v,
        "get",
        "/organizations/{organization_id}/memberships",
        &memberships,
    );
    let membership_path = format!("{org_path}/memberships/{plain_id}");
    let promoted = api
        .ok(
            "PATCH",
            &membership_path,
            Some(json!({"role": "org:admin"})),
        )
        .await;
    assert_valid(
        v,
        "patch",
        "/organizations/{organization_id}/memberships/{user_id}",
        &promoted,
    );
    let removed = api.ok("DELETE", &membership_path, None).await;
    assert_valid(
        v,
        "delete",
        "/organizations/{organization_id}/memberships/{user_id}",
        &removed,
    );

    let org_invitation = api
        .ok(
            "POST",
            &format!("{org_path}/invitations"),
            Some(json!({"email_address": "guest@example.test", "role": "org:member", "inviter_user_id": user_id})),
        )
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/invitations",
        &org_invitation,
    );
    let anonymous = api
        .ok(
            "POST",
            &format!("{org_path}/invitations"),
            Some(json!({"email_address": "anon@example.test", "role": "org:member"})),
        )
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/invitations",
        &anonymous,
    );
    assert_valid(
        v,
        "get",
        "/organizations/{organization_id}/invitations",
        &api.ok("GET", &format!("{org_path}/invitations"), None)
            .await,
    );
    let revoked = api
        .ok(
            "POST",
            &format!(
                "{org_path}/invitations/{}/revoke",
                org_invitation["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/invitations/{invitation_id}/revoke",
        &revoked,
    );

    organization_roles_domains_and_role_sets(api, v, &org_path, &user_id, &org_invitation).await;

    // Application invitations and sign-in tokens.
    let invitation = api
        .ok(
            "POST",
            "/invitations",
            Some(json!({"email_address": "new@example.test"})),
        )
        .await;
    assert_valid(v, "post", "/invitations", &invitation);
    let bulk = api
        .ok(
            "POST",
            "/invitations/bulk",
            Some(json!([
                {"email_address": "bulk-1@example.test", "notify": false},
                {"email_address": "bulk-2@example.test", "public_metadata": {"team": "b"}},
            ])),
        )
        .await;
    assert_valid(v, "post", "/invitations/bulk", &bulk);
    assert_valid(
        v,
        "get",
        "/invitations",
        &api.ok("GET", "/invitations", None).await,
    );
    let revoked = api
        .ok(
            "POST",
            &format!("/invitations/{}/revoke", invitation["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_valid(v, "post", "/invitations/{invitation_id}/revoke", &revoked);
    let token = api
        .ok("POST", "/sign_in_tokens", Some(json!({"user_id": user_id})))
        .await;
    assert_valid(v, "post", "/sign_in_tokens", &token);
    let revoked = api
        .ok(
            "POST",
            &format!("/sign_in_tokens/{}/revoke", token["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_valid(
        v,
        "post",
        "/sign_in_tokens/{sign_in_token_id}/revoke",
        &revoked,
    );

    // Profile images and organization logos, uploaded as multipart/form-data.
    let file = [("file", "a.png", Some("image/png"), common::PNG)];
    let image_path = format!("{user_path}/profile_image");
    let with_image = api.upload("POST", &image_path, &[], &file).await;
    assert_eq!(with_image.status, 200, "{}", with_image.body);
    assert_valid(
        v,
        "post",
        "/users/{user_id}/profile_image",
        &with_image.body,
    );
    let without = api.ok("DELETE", &image_path, None).await;
    assert_valid(v, "delete", "/users/{user_id}/profile_image", &without);
    let logo_path = format!("{org_path}/logo");
    let with_logo = api.upload("PUT", &logo_path, &[], &file).await;
    assert_eq!(with_logo.status, 200, "{}", with_logo.body);
    assert_valid(
        v,
        "put",
        "/organizations/{organization_id}/logo",
        &with_logo.body,
    );
    let without = api.ok("DELETE", &logo_path, None).await;
    assert_valid(
        v,
        "delete",
        "/organizations/{organization_id}/logo",
        &without,
    );

    identifications_and_user_security(api, v, &user_id, plain_id, &org_path).await;

    instance_resources(api, v).await;

    // Deletions and errors.
    let deleted = api.ok("DELETE", &org_path, None).await;
    assert_valid(v, "delete", "/organizations/{organization_id}", &deleted);
    let deleted = api.ok("DELETE", &user_path, None).await;
    assert_valid(v, "delete", "/users/{user_id}", &deleted);
    let missing = api.get(&user_path).await;
    assert_eq!(missing.status, 404);
    let errors = v.validate(v.schema("ClerkErrors"), &missing.body);
    assert!(errors.is_empty(), "{errors:?}");
}

/// Email addresses, phone numbers and their verifications; a user's password, second factors,
/// memberships and invitations; bulk bans and replaced metadata.
async fn identifications_and_user_security(
    api: &Api,
    v: &Validator<'_>,
    user_id: &str,
    plain_id: &str,
    org_path: &str,
) {
    let user_path = format!("/users/{user_id}");
    // Before the replaced phone number below turns the second factors off.
    let verified = api
        .ok(
            "POST",
            &format!("{user_path}/verify_password"),
            Some(json!({"password": "correct-horse-battery-staple"})),
        )
        .await;
    assert_valid(v, "post", "/users/{user_id}/verify_password", &verified);
    let totp = api
        .ok(
            "POST",
            &format!("{user_path}/verify_totp"),
            Some(json!({"code": "one"})),
        )
        .await;
    assert_valid(v, "post", "/users/{user_id}/verify_totp", &totp);

    for (collection, kind, verified_value, unverified_value, extra) in [
        (
            "/email_addresses",
            "email_address",
            "ada.work@example.test",
            "ada.unverified@example.test",
            json!({}),
        ),
        (
            "/phone_numbers",
            "phone_number",
            "+15555550150",
            "+15555550152",
            json!({"reserved_for_second_factor": true}),
        ),
    ] {
        let mut body = json!({"user_id": user_id, kind: verified_value, "verified": true});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let created = api.ok("POST", collection, Some(body)).await;
        assert_valid(v, "post", collection, &created);
        let template = format!("{collection}/{{{kind}_id}}");
        let path = format!("{collection}/{}", created["id"].as_str().unwrap());
        assert_valid(v, "get", &template, &api.ok("GET", &path, None).await);
        let updated = api.ok("PATCH", &path, Some(json!({"primary": true}))).await;
        assert_valid(v, "patch", &template, &updated);
        let unverified = api
            .ok(
                "POST",
                collection,
                Some(json!({"user_id": user_id, kind: unverified_value})),
            )
            .await;
        let unverified_path = format!("{collection}/{}", unverified["id"].as_str().unwrap());
        let verification = api
            .ok(
                "POST",
                &format!("{unverified_path}/prepare_verification"),
                None,
            )
            .await;
        assert_valid(
            v,
            "post",
            &format!("{template}/prepare_verification"),
            &verification,
        );
        let attempted = api
            .ok(
                "POST",
                &format!("{unverified_path}/attempt_verification"),
                Some(json!({"verification_id": verification["id"], "code": "424242"})),
            )
            .await;
        assert_valid(
            v,
            "post",
            &format!("{template}/attempt_verification"),
            &attempted,
        );
        // An identification verified by a code, inside the user.
        assert_valid(
            v,
            "get",
            "/users/{user_id}",
            &api.ok("GET", &user_path, None).await,
        );
        let deleted = api.ok("DELETE", &unverified_path, None).await;
        assert_valid(v, "delete", &template, &deleted);
    }
    let replaced = api
        .ok(
            "PUT",
            &format!("{user_path}/email_address"),
            Some(json!({"email_address": "ada@example.test"})),
        )
        .await;
    assert_valid(v, "put", "/users/{user_id}/email_address", &replaced);
    let replaced = api
        .ok(
            "PUT",
            &format!("{user_path}/phone_number"),
            Some(json!({"phone_number": "+15555550151", "identification_status": "reserved"})),
        )
        .await;
    assert_valid(v, "put", "/users/{user_id}/phone_number", &replaced);

    let metadata = api
        .ok(
            "PUT",
            &format!("{user_path}/metadata"),
            Some(json!({"public_metadata": {"plan": "team"}})),
        )
        .await;
    assert_valid(v, "put", "/users/{user_id}/metadata", &metadata);
    for action in ["ban", "unban"] {
        let users = api
            .ok(
                "POST",
                &format!("/users/{action}"),
                Some(json!({"user_ids": [user_id, plain_id]})),
            )
            .await;
        assert_valid(v, "post", &format!("/users/{action}"), &users);
    }

    api.ok(
        "POST",
        &format!("{org_path}/invitations"),
        Some(json!({"email_address": "ada@example.test", "role": "org:member"})),
    )
    .await;
    let bulk = api
        .ok(
            "POST",
            &format!("{org_path}/invitations/bulk"),
            Some(json!([
                {"email_address": "bulk-member@example.test", "role": "org:member"},
                {"email_address": "bulk-admin@example.test", "role": "org:admin", "notify": false},
            ])),
        )
        .await;
    assert_eq!(bulk["total_count"], 2, "{bulk}");
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/invitations/bulk",
        &bulk,
    );
    for list in ["organization_memberships", "organization_invitations"] {
        let answer = api.ok("GET", &format!("{user_path}/{list}"), None).await;
        assert!(answer["total_count"].as_i64() > Some(0), "{list}: {answer}");
        assert_valid(v, "get", &format!("/users/{{user_id}}/{list}"), &answer);
    }

    for action in ["set_compromised", "unset_compromised"] {
        let answer = api
            .ok("POST", &format!("{user_path}/password/{action}"), None)
            .await;
        assert_valid(
            v,
            "post",
            &format!("/users/{{user_id}}/password/{action}"),
            &answer,
        );
    }
    let removed = api
        .ok("POST", &format!("{user_path}/remove_password"), None)
        .await;
    assert_valid(v, "post", "/users/{user_id}/remove_password", &removed);
    for factor in ["totp", "backup_code", "mfa"] {
        let answer = api
            .ok("DELETE", &format!("{user_path}/{factor}"), None)
            .await;
        assert_valid(
            v,
            "delete",
            &format!("/users/{{user_id}}/{factor}"),
            &answer,
        );
    }
}

/// Allowlist and blocklist identifiers, JWT templates, waitlist entries, domains and redirect
/// URLs, each kind in every shape its operations answer with.
async fn instance_resources(api: &Api, v: &Validator<'_>) {
    let id = |value: &Value| value["id"].as_str().unwrap().to_string();
    // A paginated list's items must each fit the item schema of the bare list.
    let check_page = |page: &Value, item_schema: &str| {
        assert!(page["total_count"].is_i64(), "{page}");
        for item in page["data"].as_array().unwrap() {
            let errors = v.validate(v.schema(item_schema), item);
            assert!(errors.is_empty(), "{errors:?}\n{item:#}");
        }
    };

    for path in ["/allowlist_identifiers", "/blocklist_identifiers"] {
        let mut created = Vec::new();
        for identifier in [
            "*@allowed.example.test",
            "+15555550123",
            "0x00000000000000000000000000000000000000aa",
        ] {
            let answer = api
                .ok("POST", path, Some(json!({"identifier": identifier})))
                .await;
            assert_valid(v, "post", path, &answer);
            created.push(id(&answer));
        }
        assert_valid(v, "get", path, &api.ok("GET", path, None).await);
        let deleted = api
            .ok("DELETE", &format!("{path}/{}", created[0]), None)
            .await;
        assert_valid(v, "delete", &format!("{path}/{{identifier_id}}"), &deleted);
    }
    let notified = api
        .ok(
            "POST",
            "/allowlist_identifiers",
            Some(json!({"identifier": "notified@example.test", "notify": true})),
        )
        .await;
    assert_valid(v, "post", "/allowlist_identifiers", &notified);
    check_page(
        &api.ok("GET", "/allowlist_identifiers?paginated=true", None)
            .await,
        "AllowlistIdentifier",
    );

    let template = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "conformance", "claims": {"aud": "x", "email": "{{user.primary_email_address}}"}})),
        )
        .await;
    assert_valid(v, "post", "/jwt_templates", &template);
    let custom = api
        .ok(
            "POST",
            "/jwt_templates",
            Some(json!({"name": "conformance-hs256", "claims": {}, "lifetime": 3600, "allowed_clock_skew": 10, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": "secret"})),
        )
        .await;
    assert_valid(v, "post", "/jwt_templates", &custom);
    let template_path = format!("/jwt_templates/{}", id(&template));
    assert_valid(
        v,
        "get",
        "/jwt_templates/{template_id}",
        &api.ok("GET", &template_path, None).await,
    );
    let updated = api
        .ok(
            "PATCH",
            &template_path,
            Some(json!({"name": "conformance-renamed", "claims": {"aud": "y"}, "lifetime": 600})),
        )
        .await;
    assert_valid(v, "patch", "/jwt_templates/{template_id}", &updated);
    assert_valid(
        v,
        "get",
        "/jwt_templates",
        &api.ok("GET", "/jwt_templates", None).await,
    );
    check_page(
        &api.ok("GET", "/jwt_templates?paginated=true", None).await,
        "JWTTemplate",
    );
    let deleted = api.ok("DELETE", &template_path, None).await;
    assert_valid(v, "delete", "/jwt_templates/{template_id}", &deleted);

    let mut entries = Vec::new();
    for email in [
        "waiting@example.test",
        "invitee@example.test",
        "rejected@example.test",
    ] {
        let entry = api
            .ok(
                "POST",
                "/waitlist_entries",
                Some(json!({"email_address": email, "notify": false})),
            )
            .await;
        assert_valid(v, "post", "/waitlist_entries", &entry);
        entries.push(id(&entry));
    }
    let bulk = api
        .ok(
            "POST",
            "/waitlist_entries/bulk",
            Some(json!([
                {"email_address": "waiting@example.test", "notify": false},
                {"email_address": "bulk-waiting@example.test"},
            ])),
        )
        .await;
    assert_eq!(
        bulk[0]["id"],
        json!(entries[0]),
        "an existing entry comes back"
    );
    assert_valid(v, "post", "/waitlist_entries/bulk", &bulk);
    let invited = api
        .ok(
            "POST",
            &format!("/waitlist_entries/{}/invite", entries[1]),
            Some(json!({})),
        )
        .await;
    assert!(invited["invitation"].is_object(), "{invited}");
    assert_valid(
        v,
        "post",
        "/waitlist_entries/{waitlist_entry_id}/invite",
        &invited,
    );
    let rejected = api
        .ok(
            "POST",
            &format!("/waitlist_entries/{}/reject", entries[2]),
            None,
        )
        .await;
    assert_valid(
        v,
        "post",
        "/waitlist_entries/{waitlist_entry_id}/reject",
        &rejected,
    );
    assert_valid(
        v,
        "get",
        "/waitlist_entries",
        &api.ok("GET", "/waitlist_entries?order_by=-invited_at", None)
            .await,
    );
    let deleted = api
        .ok("DELETE", &format!("/waitlist_entries/{}", entries[0]), None)
        .await;
    assert_valid(
        v,
        "delete",
        "/waitlist_entries/{waitlist_entry_id}",
        &deleted,
    );

    let satellite = api
        .ok(
            "POST",
            "/domains",
            Some(json!({"name": "satellite.example.test", "is_satellite": true})),
        )
        .await;
    assert_valid(v, "post", "/domains", &satellite);
    let proxied = api
        .ok(
            "PATCH",
            &format!("/domains/{}", id(&satellite)),
            Some(json!({"proxy_url": "https://satellite.example.test/__clerk"})),
        )
        .await;
    assert_valid(v, "patch", "/domains/{domain_id}", &proxied);
    assert_valid(v, "get", "/domains", &api.ok("GET", "/domains", None).await);
    let deleted = api
        .ok("DELETE", &format!("/domains/{}", id(&satellite)), None)
        .await;
    assert_valid(v, "delete", "/domains/{domain_id}", &deleted);

    let redirect = api
        .ok(
            "POST",
            "/redirect_urls",
            Some(json!({"url": "my-app://oauth-callback"})),
        )
        .await;
    assert_valid(v, "post", "/redirect_urls", &redirect);
    let redirect_path = format!("/redirect_urls/{}", id(&redirect));
    assert_valid(
        v,
        "get",
        "/redirect_urls/{id}",
        &api.ok("GET", &redirect_path, None).await,
    );
    assert_valid(
        v,
        "get",
        "/redirect_urls",
        &api.ok("GET", "/redirect_urls", None).await,
    );
    check_page(
        &api.ok("GET", "/redirect_urls?paginated=true", None).await,
        "RedirectURL",
    );
    let deleted = api.ok("DELETE", &redirect_path, None).await;
    assert_valid(v, "delete", "/redirect_urls/{id}", &deleted);
}

#[tokio::test]
async fn without_the_document_the_stateful_operations_are_all_served() {
    let Some(spec) = load_spec() else {
        return;
    };
    let v = Validator::new(&spec);
    let api = Api::start().await;
    every_kind_of_stateful_object(&api, &v).await;
    let served: BTreeSet<(String, String)> = api
        .emulator
        .operations()
        .into_iter()
        .map(|o| (o.method, o.path))
        .collect();
    assert_eq!(*v.covered.borrow(), served);
}

#[test]
fn the_validator_rejects_what_clerk_would_not_send() {
    let Some(spec) = load_spec() else {
        return;
    };
    let v = Validator::new(&spec);
    let user_schema = v.schema("User");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let user = runtime.block_on(async {
        let api = Api::start().await;
        api.user("valid@example.test").await
    });
    assert!(v.validate(user_schema, &user).is_empty());

    let mut missing = user.clone();
    missing.as_object_mut().unwrap().remove("banned");
    assert_eq!(
        v.validate(user_schema, &missing),
        ["$: missing required field banned"]
    );

    let mut wrong_object = user.clone();
    wrong_object["object"] = json!("usr");
    assert!(!v.validate(user_schema, &wrong_object).is_empty());

    let mut extra = user.clone();
    extra["favourite_colour"] = json!("teal");
    assert_eq!(
        v.validate(user_schema, &extra),
        ["$: unexpected field favourite_colour"]
    );

    let mut not_nullable = user.clone();
    not_nullable["banned"] = Value::Null;
    assert!(!v.validate(user_schema, &not_nullable).is_empty());

    let mut bad_verification = user.clone();
    bad_verification["email_addresses"][0]["verification"]["strategy"] = json!("carrier_pigeon");
    assert!(!v.validate(user_schema, &bad_verification).is_empty());

    let mut string_timestamp = user;
    string_timestamp["created_at"] = json!("2024-01-01");
    assert!(!v.validate(user_schema, &string_timestamp).is_empty());
}

/// The objects of the organization roles, permissions, role sets and domains handlers, and the
/// instance-wide lists, metadata and single invitation of the organization families.
async fn organization_roles_domains_and_role_sets(
    api: &Api,
    v: &Validator<'_>,
    org_path: &str,
    user_id: &str,
    org_invitation: &Value,
) {
    let replaced = api
        .ok(
            "PUT",
            &format!("{org_path}/metadata"),
            Some(json!({"public_metadata": {"tier": "silver"}})),
        )
        .await;
    assert_valid(
        v,
        "put",
        "/organizations/{organization_id}/metadata",
        &replaced,
    );
    let member_metadata = api
        .ok(
            "PATCH",
            &format!("{org_path}/memberships/{user_id}/metadata"),
            Some(json!({"public_metadata": {"team": "engines"}})),
        )
        .await;
    assert_valid(
        v,
        "patch",
        "/organizations/{organization_id}/memberships/{user_id}/metadata",
        &member_metadata,
    );
    assert_valid(
        v,
        "get",
        "/organization_memberships",
        &api.ok("GET", "/organization_memberships", None).await,
    );
    let invitation_path = format!(
        "{org_path}/invitations/{}",
        org_invitation["id"].as_str().unwrap()
    );
    assert_valid(
        v,
        "get",
        "/organizations/{organization_id}/invitations/{invitation_id}",
        &api.ok("GET", &invitation_path, None).await,
    );
    assert_valid(
        v,
        "get",
        "/organization_invitations",
        &api.ok("GET", "/organization_invitations", None).await,
    );

    // Domains.
    let domain = api
        .ok(
            "POST",
            &format!("{org_path}/domains"),
            Some(json!({"name": "engines.example", "enrollment_mode": "automatic_invitation"})),
        )
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/domains",
        &domain,
    );
    let unverified = api
        .ok(
            "POST",
            &format!("{org_path}/domains"),
            Some(json!({"name": "looms.example", "enrollment_mode": "manual_invitation", "verified": false})),
        )
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/domains",
        &unverified,
    );
    assert_valid(
        v,
        "get",
        "/organizations/{organization_id}/domains",
        &api.ok("GET", &format!("{org_path}/domains"), None).await,
    );
    assert_valid(
        v,
        "get",
        "/organization_domains",
        &api.ok("GET", "/organization_domains?query=example", None)
            .await,
    );
    let domain_path = format!("{org_path}/domains/{}", domain["id"].as_str().unwrap());
    let updated = api
        .ok(
            "PATCH",
            &domain_path,
            Some(json!({"enrollment_mode": "automatic_suggestion"})),
        )
        .await;
    assert_valid(
        v,
        "patch",
        "/organizations/{organization_id}/domains/{domain_id}",
        &updated,
    );
    let verified = api
        .ok("POST", &format!("{domain_path}/verify_ownership"), None)
        .await;
    assert_valid(
        v,
        "post",
        "/organizations/{organization_id}/domains/{domain_id}/verify_ownership",
        &verified,
    );
    let deleted = api.ok("DELETE", &domain_path, None).await;
    assert_valid(
        v,
        "delete",
        "/organizations/{organization_id}/domains/{domain_id}",
        &deleted,
    );

    // Permissions and roles.
    let permission = api
        .ok(
            "POST",
            "/organization_permissions",
            Some(json!({"name": "Run engines", "key": "org:engines:run"})),
        )
        .await;
    assert_valid(v, "post", "/organization_permissions", &permission);
    let permission_path = format!(
        "/organization_permissions/{}",
        permission["id"].as_str().unwrap()
    );
    assert_valid(
        v,
        "get",
        "/organization_permissions",
        &api.ok("GET", "/organization_permissions", None).await,
    );
    assert_valid(
        v,
        "get",
        "/organization_permissions/{permission_id}",
        &api.ok("GET", &permission_path, None).await,
    );
    assert_valid(
        v,
        "patch",
        "/organization_permissions/{permission_id}",
        &api.ok(
            "PATCH",
            &permission_path,
            Some(json!({"description": "Start the engines."})),
        )
        .await,
    );
    let role = api
        .ok(
            "POST",
            "/organization_roles",
            Some(json!({"name": "Engineer", "key": "org:engineer", "permissions": [permission["id"]]})),
        )
        .await;
    assert_valid(v, "post", "/organization_roles", &role);
    let role_path = format!("/organization_roles/{}", role["id"].as_str().unwrap());
    assert_valid(
        v,
        "get",
        "/organization_roles",
        &api.ok("GET", "/organization_roles", None).await,
    );
    assert_valid(
        v,
        "get",
        "/organization_roles/{organization_role_id}",
        &api.ok("GET", &role_path, None).await,
    );
    assert_valid(
        v,
        "patch",
        "/organization_roles/{organization_role_id}",
        &api.ok("PATCH", &role_path, Some(json!({"name": "Engineers"})))
            .await,
    );
    let grant_path = format!(
        "{role_path}/permissions/{}",
        permission["id"].as_str().unwrap()
    );
    assert_valid(
        v,
        "delete",
        "/organization_roles/{organization_role_id}/permissions/{permission_id}",
        &api.ok("DELETE", &grant_path, None).await,
    );
    assert_valid(
        v,
        "post",
        "/organization_roles/{organization_role_id}/permissions/{permission_id}",
        &api.ok("POST", &grant_path, None).await,
    );

    // Role sets.
    let set = api
        .ok(
            "POST",
            "/role_sets",
            Some(json!({
                "name": "Engine rooms",
                "roles": ["org:admin", "org:member"],
                "default_role_key": "org:member",
                "creator_role_key": "org:admin",
            })),
        )
        .await;
    assert_valid(v, "post", "/role_sets", &set);
    let set_path = format!("/role_sets/{}", set["key"].as_str().unwrap());
    assert_valid(
        v,
        "get",
        "/role_sets",
        &api.ok("GET", "/role_sets", None).await,
    );
    assert_valid(
        v,
        "get",
        "/role_sets/{role_set_key_or_id}",
        &api.ok("GET", &set_path, None).await,
    );
    assert_valid(
        v,
        "patch",
        "/role_sets/{role_set_key_or_id}",
        &api.ok(
            "PATCH",
            &set_path,
            Some(json!({"description": "Engine crews."})),
        )
        .await,
    );
    assert_valid(
        v,
        "post",
        "/role_sets/{role_set_key_or_id}/roles",
        &api.ok(
            "POST",
            &format!("{set_path}/roles"),
            Some(json!({"role_keys": ["org:engineer"]})),
        )
        .await,
    );
    assert_valid(
        v,
        "post",
        "/role_sets/{role_set_key_or_id}/roles/replace",
        &api.ok(
            "POST",
            &format!("{set_path}/roles/replace"),
            Some(json!({"role_key": "org:engineer", "to_role_key": "org:member"})),
        )
        .await,
    );
    assert_valid(
        v,
        "post",
        "/role_sets/{role_set_key_or_id}/replace",
        &api.ok(
            "POST",
            &format!("{set_path}/replace"),
            Some(json!({"dest_role_set_key": "role_set:default"})),
        )
        .await,
    );
    assert_valid(
        v,
        "delete",
        "/organization_roles/{organization_role_id}",
        &api.ok("DELETE", &role_path, None).await,
    );
    assert_valid(
        v,
        "delete",
        "/organization_permissions/{permission_id}",
        &api.ok("DELETE", &permission_path, None).await,
    );
}
