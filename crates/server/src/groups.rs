//! Skill groups and agents for supervisors: routing settings per group (strategy, sticky
//! window, keywords and patterns, business hours, queue timeout, closing message) and agents'
//! capacity and groups. Changes apply to the next routing decision.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Agent, BusinessHours, GroupRouting, Role, SkillGroup, SkillGroupId, Strategy};
use kefu_engine::routing::check_rule;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Every skill group with its routing settings.
#[utoipa::path(get, path = "/groups", operation_id = "list_skill_groups", tag = "accounts",
    responses((status = 200, description = "In the order they were created", body = [SkillGroup])))]
pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<SkillGroup>>> {
    me.require(Role::Agent)?;
    Ok(Json(state.store.skill_groups().await?))
}

/// A skill group's name and routing settings.
#[derive(Deserialize, ToSchema)]
pub struct GroupForm {
    /// 1–50 characters, not only white space; no other group may have it (409).
    #[schema(
        max_length = 50,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    name: String,
    /// Left out: the defaults (on an update too).
    #[serde(default)]
    #[schema(value_type = RoutingInput)]
    routing: GroupRouting,
}

/// A group's routing settings as a form sends them: `GroupRouting`, every field optional (the
/// defaults are a new group's), with the rule the handlers enforce on keywords.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the `GroupRouting` of `GroupForm`
pub struct RoutingInput {
    /// Default `least_load`.
    #[schema(required = false)]
    strategy: Strategy,
    /// The agent who served the customer within this many hours goes first; 0 turns it off.
    /// Default 24; at most 720 (30 days, as the form allows).
    #[schema(required = false, maximum = 720)]
    sticky_hours: u32,
    /// After this long in the queue the conversation becomes a leave-message ticket; at most a
    /// week.
    #[schema(maximum = 604800)]
    queue_timeout_secs: Option<u32>,
    /// When the group is staffed; outside these hours customers leave a message.
    business_hours: Option<BusinessHours>,
    /// Keywords ("退款") and patterns ("re:^退.*款") that route a message to this group, default
    /// none. Each has something besides white space; a pattern that does not compile is a 422.
    #[schema(
        required = false,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    keywords: Vec<String>,
    /// The closing message (结束语) sent when a conversation of this group is closed.
    closing_message: Option<String>,
}

const MAX_STICKY_HOURS: u32 = 720;
const MAX_QUEUE_TIMEOUT_SECS: u32 = 604_800;

fn validate(f: &GroupForm) -> ApiResult<()> {
    if f.name.trim().is_empty() || f.name.chars().count() > 50 {
        return Err(ApiError::BadRequest("the name must be 1-50 characters".into()));
    }
    // Bounds that keep the timers' arithmetic far from overflow and catch typos (hours for
    // seconds); the schema states them.
    if f.routing.sticky_hours > MAX_STICKY_HOURS {
        return Err(ApiError::BadRequest(format!("sticky_hours must be at most {MAX_STICKY_HOURS}")));
    }
    if f.routing.queue_timeout_secs.is_some_and(|s| s > MAX_QUEUE_TIMEOUT_SECS) {
        return Err(ApiError::BadRequest(format!(
            "queue_timeout_secs must be at most {MAX_QUEUE_TIMEOUT_SECS}"
        )));
    }
    for k in &f.routing.keywords {
        if k.trim().is_empty() {
            return Err(ApiError::BadRequest(format!("rule {k:?}: an empty keyword")));
        }
        // A pattern that does not compile is beyond what the schema can state: a 422, not a 400.
        check_rule(k).map_err(|e| ApiError::Unprocessable(format!("rule {k:?}: {e}")))?;
    }
    Ok(())
}

/// Creates a skill group (supervisors).
#[utoipa::path(post, path = "/groups", operation_id = "create_skill_group", tag = "accounts", request_body = GroupForm,
    responses((status = 200, description = "The new group", body = SkillGroup),
        (status = 409, description = "A group of that name exists", body = ErrorBody),
        (status = 422, description = "A `re:` pattern that does not compile, or a field of the wrong type", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<GroupForm>,
) -> ApiResult<Json<SkillGroup>> {
    me.require(Role::Supervisor)?;
    validate(&f)?;
    let mut g = state.store.create_skill_group(f.name.trim(), state.clock.now()).await?;
    g.routing = f.routing;
    Ok(Json(state.store.update_skill_group(&g).await?))
}

/// Renames a skill group and replaces its routing settings (supervisors); those already waiting
/// are routed by the new ones.
#[utoipa::path(put, path = "/groups/{id}", operation_id = "update_skill_group", tag = "accounts",
    params(("id" = i64, Path)), request_body = GroupForm,
    responses((status = 200, description = "The group as it is now", body = SkillGroup),
        (status = 409, description = "Another group has that name", body = ErrorBody),
        (status = 422, description = "A `re:` pattern that does not compile, or a field of the wrong type", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<GroupForm>,
) -> ApiResult<Json<SkillGroup>> {
    me.require(Role::Supervisor)?;
    validate(&f)?;
    let g = SkillGroup { id: SkillGroupId(id), name: f.name.trim().to_owned(), routing: f.routing };
    let saved = state.store.update_skill_group(&g).await?;
    // New rules, hours or strategy apply to those already waiting, on every node.
    state.engine.serve_queues(&[saved.id]).await?;
    Ok(Json(saved))
}

/// Every account, disabled ones too, with its role, status, capacity and skill groups.
#[utoipa::path(get, path = "/agents", operation_id = "list_agents", tag = "accounts",
    responses((status = 200, description = "In the order they were created", body = [Agent])))]
pub async fn agents(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<Agent>>> {
    me.require(Role::Agent)?;
    Ok(Json(state.store.agents().await?))
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    fn fields(schema: RefOr<Schema>) -> Vec<String> {
        let mut names: Vec<String> = match schema {
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            _ => vec![],
        };
        names.sort();
        names
    }

    #[test]
    fn the_documented_routing_has_exactly_the_fields_of_the_real_one() {
        let documented = fields(super::RoutingInput::schema());
        assert!(!documented.is_empty());
        assert_eq!(documented, fields(kefu_domain::GroupRouting::schema()));
    }
}
