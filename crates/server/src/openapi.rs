//! The OpenAPI document of every `/api` route (served at `/api/openapi.json`, browsable at
//! `/api/docs`). Paths come from the handlers' `#[utoipa::path]` annotations through the same
//! router that serves them (`routes`), so a route cannot exist undocumented; what every
//! operation shares (how to sign in, the errors the extractors answer) is added here once.

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kefu API",
        description = "The workbench API (sign in with `POST /api/auth/login`; send the session cookie, and on every \
            request that changes something the `X-CSRF-Token` header from the login answer) and the data API under \
            `/api/v1` (an API key as `Authorization: Bearer kf_…`, or a supervisor's session). Every error is JSON \
            `{error, message}`. WebSocket frames, platform callbacks and the widget are described in docs/PROTOCOLS.md."
    ),
    // Enums that only appear in query parameters: utoipa collects schemas from bodies only.
    components(schemas(
        ErrorBody,
        crate::api::Scope,
        crate::data_api::StateFilter,
        crate::data_api::ExportFormat,
        crate::agents_import::AccountFileFormat
    )),
    tags(
        (name = "auth", description = "Signing in and out, one's own account and sessions"),
        (name = "conversations", description = "The workbench's conversations"),
        (name = "customers", description = "Customers, their history, tags, notes and merges (OneID)"),
        (name = "accounts", description = "Agent accounts and skill groups"),
        (name = "media", description = "Images and files"),
        (name = "knowledge", description = "The bot's knowledge base"),
        (name = "admin", description = "Channels, API keys, webhooks, jobs and settings (admins)"),
        (name = "dashboard", description = "Figures per channel, agent and day"),
        (name = "live", description = "The workbench's live feed"),
        (name = "data", description = "The data API for CRMs and BI"),
    )
)]
struct Base;

/// Every error: a stable code and a message for people.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON `ApiError` and `json_errors` write
pub struct ErrorBody {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`, `conflict`,
    /// `not_acceptable`, `request_timeout`, `refused`, `unprocessable`, `payload_too_large`,
    /// `unsupported_media_type`, `too_many_requests`, `unavailable` or `internal`.
    error: String,
    message: String,
}

/// A file's bytes, as a raw request or response body (a spreadsheet, an image).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // documents raw bodies
pub struct FileBytes(Vec<u8>);

/// The whole document: `api` is what the router collected (paths relative to `/api`).
pub fn document(api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi().nest("/api", api);
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    add_security_schemes(&mut doc);
    add_shared_errors(&mut doc);
    add_links(&mut doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            op.security = Some(security_for(path, method));
            add_operation_errors(path, op);
        }
    }
    doc
}

/// The document as served. utoipa 5 writes a link's fields in snake case (`operation_id`),
/// which no OpenAPI tool reads, so they are renamed here (the spec's `operationId`, …).
pub fn document_json(api: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(document(api)).expect("the OpenAPI document serialises");
    for item in json["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
        for op in item.as_object_mut().into_iter().flat_map(|i| i.values_mut()) {
            for response in op["responses"].as_object_mut().into_iter().flat_map(|r| r.values_mut()) {
                let links = response.get_mut("links").and_then(|l| l.as_object_mut());
                for link in links.into_iter().flat_map(|l| l.values_mut()).filter_map(|l| l.as_object_mut()) {
                    for (from, to) in [("operation_id", "operationId"), ("operation_ref", "operationRef")] {
                        if let Some(v) = link.remove(from) {
                            link.insert(to.to_owned(), v);
                        }
                    }
                }
            }
        }
    }
    json
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

fn add_security_schemes(doc: &mut utoipa::openapi::OpenApi) {
    let bearer = SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API key an admin created (`kf_…`); the scheme is case-insensitive (RFC 6750).",
            ))
            .build(),
    );
    let session = SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
        crate::auth::SESSION_COOKIE,
        "The workbench session that `POST /api/auth/login` sets (HttpOnly, SameSite=Strict).",
    )));
    let csrf = SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        "X-CSRF-Token",
        "The session's `csrf_token` from `POST /api/auth/login` or `GET /api/me`; required on every request \
         that is not GET.",
    )));
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("api_key", bearer);
    components.add_security_scheme("session", session);
    components.add_security_scheme("csrf", csrf);
}

/// Who may call what: the data API takes a key or a supervisor's session; login needs nothing;
/// everything else a session, plus the CSRF header unless it only reads.
fn security_for(path: &str, method: &str) -> Vec<SecurityRequirement> {
    let none = Vec::<String>::new;
    if path.starts_with("/api/v1/") {
        vec![SecurityRequirement::new("api_key", none()), SecurityRequirement::new("session", none())]
    } else if path == "/api/auth/login" {
        vec![SecurityRequirement::default()]
    } else if method == "get" {
        vec![SecurityRequirement::new("session", none())]
    } else {
        vec![SecurityRequirement::new("session", none()).add("csrf", none())]
    }
}

/// The shared error responses, as components the operations refer to.
const SHARED: [(&str, &str); 8] = [
    ("400", "A parameter or the body is malformed, not one of its values, or out of its bounds."),
    ("401", "Not signed in, or the session or key is unknown, expired or revoked."),
    (
        "403",
        "The role may not do this, the CSRF token is missing or wrong, or the request came from another site.",
    ),
    ("404", "No such resource, or the visibility policy hides it."),
    ("413", "The body is larger than this operation accepts."),
    ("415", "The body is not `application/json`."),
    ("422", "The JSON is well-formed but a field has the wrong type or is missing."),
    ("429", "Too many attempts or too busy; try again later."),
];

fn add_shared_errors(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, description) in SHARED {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        let response =
            ResponseBuilder::new().description(description).content("application/json", content).build();
        components.responses.insert(format!("E{status}"), RefOr::T(response));
    }
}

/// Adds what the extractors can answer on any operation, unless the handler documented it.
fn add_operation_errors(path: &str, op: &mut Operation) {
    let json_body = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
    let wanted = [
        ("400", true),
        ("401", true),
        ("403", true),
        ("404", path.contains('{')),
        ("413", op.request_body.is_some()),
        ("415", json_body),
        ("422", json_body),
    ];
    for (status, applies) in wanted {
        if applies && !op.responses.responses.contains_key(status) {
            let shared = Ref::new(format!("#/components/responses/E{status}"));
            op.responses.responses.insert(status.to_owned(), RefOr::Ref(shared));
        }
    }
}

/// Which answer feeds which operation's `{id}` (OpenAPI links): what a client does next with
/// what it just got, and what schemathesis's stateful phase follows to build call sequences.
const LINKS: &[(&str, &str, &[&str])] = &[
    (
        "list_conversations",
        "/0/id",
        &[
            "get_conversation",
            "list_conversation_messages",
            "reply_to_conversation",
            "claim_conversation",
            "close_conversation",
            "transfer_conversation",
            "ask_customer_phone",
            "set_conversation_tags",
        ],
    ),
    ("claim_conversation", "/id", &["reply_to_conversation", "transfer_conversation", "close_conversation"]),
    ("close_conversation", "/id", &["get_conversation"]),
    ("reply_to_conversation", "/id", &["get_message_media"]),
    (
        "search_customers",
        "/0/id",
        &[
            "get_customer",
            "list_customer_messages",
            "set_customer_tags",
            "add_customer_note",
            "merge_customers",
        ],
    ),
    ("merge_customers", "/id", &["undo_customer_merge"]),
    ("create_agent", "/id", &["get_agent", "update_agent", "force_logout_agent"]),
    ("list_agents", "/0/id", &["get_agent"]),
    ("create_skill_group", "/id", &["update_skill_group"]),
    ("create_kb_entry", "/id", &["update_kb_entry", "delete_kb_entry"]),
    ("list_kb_candidates", "/0/id", &["accept_kb_candidate", "reject_kb_candidate"]),
    ("create_channel", "/id", &["update_channel", "test_channel"]),
    ("create_api_key", "/key/id", &["revoke_api_key"]),
    ("create_webhook", "/webhook/id", &["update_webhook", "list_webhook_deliveries"]),
    ("list_webhook_deliveries", "/0/id", &["redeliver_webhook_delivery"]),
    ("list_jobs", "/0/id", &["retry_job"]),
    ("list_my_sessions", "/0/id", &["end_my_session"]),
    ("list_data_conversations", "/items/0/id", &["get_data_conversation"]),
    ("list_data_customers", "/items/0/customer/id", &["get_data_customer"]),
];

fn add_links(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::link::LinkBuilder;
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            let Some(&(_, pointer, targets)) = LINKS.iter().find(|l| Some(l.0) == op.operation_id.as_deref())
            else {
                continue;
            };
            let Some(RefOr::T(ok)) =
                op.responses.responses.iter_mut().find(|(s, _)| s.starts_with('2')).map(|(_, r)| r)
            else {
                continue;
            };
            for target in targets {
                let link = LinkBuilder::new()
                    .operation_id(*target)
                    .parameter("id", format!("$response.body#{pointer}"))
                    .build();
                ok.links.insert((*target).to_owned(), RefOr::T(link));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_need_the_csrf_header_and_reads_only_the_session() {
        let get = serde_json::to_value(security_for("/api/conversations", "get")).unwrap();
        let post = serde_json::to_value(security_for("/api/conversations/{id}/claim", "post")).unwrap();
        assert_eq!(get, serde_json::json!([{ "session": [] }]));
        assert_eq!(post, serde_json::json!([{ "session": [], "csrf": [] }]));
        let data = serde_json::to_value(security_for("/api/v1/changes", "get")).unwrap();
        assert_eq!(data, serde_json::json!([{ "api_key": [] }, { "session": [] }]));
        assert_eq!(
            serde_json::to_value(security_for("/api/auth/login", "post")).unwrap(),
            serde_json::json!([{}])
        );
    }

    /// The one spelling of "white space" in the document's patterns: exactly what Rust's `trim`
    /// removes (Unicode White_Space), written out because `\s` means other sets elsewhere.
    const WHITE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

    /// The characters a regex class body such as `WHITE` names.
    fn class_chars(class: &str) -> Vec<char> {
        let mut out = vec![];
        let mut rest = class;
        while !rest.is_empty() {
            let (c, tail) = match rest.strip_prefix('\\') {
                Some(esc) => {
                    let (code, len) = match esc.as_bytes()[0] {
                        b't' => (9, 1),
                        b'n' => (10, 1),
                        b'r' => (13, 1),
                        b'x' => (u32::from_str_radix(&esc[1..3], 16).unwrap(), 3),
                        b'u' => (u32::from_str_radix(&esc[1..5], 16).unwrap(), 5),
                        other => panic!("unexpected escape {}", other as char),
                    };
                    (char::from_u32(code).unwrap(), &esc[len..])
                }
                None => (rest.chars().next().unwrap(), &rest[1..]),
            };
            match (out.last().copied(), c) {
                (Some('-'), _) if out.len() >= 2 => {
                    out.pop();
                    let from = out.pop().unwrap();
                    out.extend(from..=c);
                }
                _ => out.push(c),
            }
            rest = tail;
        }
        out
    }

    #[test]
    fn every_white_space_class_in_the_document_is_the_one_rust_trims() {
        let white: Vec<char> = ('\0'..=char::MAX).filter(|c| c.is_whitespace()).collect();
        assert_eq!(class_chars(WHITE), white);
        let doc = document_json(crate::routes::api().1).to_string();
        let patterns: Vec<String> = doc
            .split("\"pattern\":\"")
            .skip(1)
            .map(|p| {
                serde_json::from_str::<String>(&format!("\"{}\"", p.split("\",").next().unwrap())).unwrap()
            })
            .collect();
        assert!(patterns.len() > 10, "{patterns:?}");
        for p in patterns.iter().filter(|p| p.contains("3000")) {
            assert!(!p.replace(WHITE, "").contains("3000"), "{p} spells white space another way");
        }
    }

    #[test]
    fn every_link_names_operations_that_exist_with_an_id_to_fill() {
        let doc = document(crate::routes::api().1);
        let ops: Vec<(String, Operation)> = doc
            .paths
            .paths
            .iter()
            .flat_map(|(p, item)| {
                operations(&mut item.clone())
                    .into_iter()
                    .map(|(_, o)| (p.clone(), o.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let path_of = |id: &str| {
            ops.iter().find(|(_, o)| o.operation_id.as_deref() == Some(id)).map(|(p, _)| p.clone())
        };
        for (source, _, targets) in LINKS {
            assert!(path_of(source).is_some(), "link source {source} is no operation");
            for target in *targets {
                let path = path_of(target).unwrap_or_else(|| panic!("link target {target} is no operation"));
                assert!(path.contains("{id}"), "{target} ({path}) takes no id");
            }
        }
    }

    #[test]
    fn every_reference_in_the_document_resolves_and_operation_ids_are_unique() {
        let doc = document_json(crate::routes::api().1);
        let text = doc.to_string();
        assert!(!text.contains("\"operation_id\""), "links use the spec's field names");
        for (kind, rest) in text.split("\"#/components/").skip(1).filter_map(|r| r.split_once('/')) {
            let name = rest.split('"').next().unwrap();
            assert!(
                doc["components"][kind][name].is_object(),
                "{kind}/{name} is referred to but not defined"
            );
        }
        let mut ids = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().expect("every operation has an id");
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            }
        }
    }
}
