//! `POST /api/agents/import?format=csv|xlsx`: an admin adds a whole team from a spreadsheet.
//! Every row is checked first (the same rules as the form, usernames unique in the file and
//! in kefu, skill groups that exist); with any problem, an unreadable file included, nothing is
//! created and each row says what is wrong (a 422). Otherwise all accounts are created in one
//! transaction. Rows without a password get a random one, shown in the answer this once.

use std::collections::HashSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu_bot::kbio::{self, Format, RowError};
use kefu_domain::{Role, SkillGroup};
use kefu_store::NewAgent;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::agents::{check_account, hash};
use crate::auth::CurrentAgent;
use crate::error::ApiResult;
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// A team is tens of people; a file of more is a mistake (or an attack on the hasher).
const MAX_ROWS: usize = 500;

/// One account of the file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub groups: Vec<SkillGroup>,
    pub capacity: u32,
    pub password: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// How the body is read: `csv` (UTF-8, with or without a BOM) or `xlsx` (its first sheet).
    format: AccountFileFormat,
}

/// The spreadsheet formats a team can come in.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountFileFormat {
    Csv,
    Xlsx,
}

impl From<AccountFileFormat> for Format {
    fn from(f: AccountFileFormat) -> Format {
        match f {
            AccountFileFormat::Csv => Format::Csv,
            AccountFileFormat::Xlsx => Format::Xlsx,
        }
    }
}

/// One account the import created.
#[derive(Serialize, ToSchema)]
pub struct CreatedAccount {
    id: i64,
    username: String,
    display_name: String,
    role: Role,
    /// Only for rows that had none: the generated password, shown this once (null otherwise).
    password: Option<String>,
}

/// The accounts created, one per row, in the file's order.
#[derive(Serialize, ToSchema)]
pub struct AccountImportReport {
    created: Vec<CreatedAccount>,
    /// Always empty here: with any problem the answer is a 422.
    #[schema(value_type = Vec<AccountRowError>)]
    errors: Vec<RowError>,
}

/// A refused import: nothing was created, and every problem is named with its row.
#[derive(Serialize, ToSchema)]
pub struct AccountImportRefused {
    /// `unprocessable`.
    error: &'static str,
    message: String,
    /// Always empty.
    created: Vec<CreatedAccount>,
    #[schema(value_type = Vec<AccountRowError>)]
    errors: Vec<RowError>,
}

/// What is wrong with one row of the file.
#[derive(ToSchema)]
#[allow(dead_code)] // documents `kefu_bot::kbio::RowError`
pub struct AccountRowError {
    /// 1-based, the header being row 1; 0 for the file as a whole (unreadable, too many rows).
    row: usize,
    message: String,
}

impl AccountImportRefused {
    fn response(message: String, errors: Vec<RowError>) -> Response {
        let body = AccountImportRefused { error: "unprocessable", message, created: vec![], errors };
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

/// Columns by their English or Chinese names, as exported by kefu or typed by people.
const COLUMNS: [(&str, &[&str]); 6] = [
    ("username", &["username", "用户名", "账号"]),
    ("display_name", &["display_name", "显示名", "姓名", "name"]),
    ("role", &["role", "角色"]),
    ("groups", &["groups", "skill_groups", "技能组"]),
    ("capacity", &["capacity", "接待上限"]),
    ("password", &["password", "密码"]),
];

fn column(header: &[String], name: &str) -> Option<usize> {
    let aliases = COLUMNS.iter().find(|c| c.0 == name).map(|c| c.1).unwrap_or_default();
    header.iter().position(|h| aliases.contains(&h.trim().to_lowercase().as_str()))
}

/// Where each column is, found once from the header.
struct Layout {
    username: usize,
    display_name: usize,
    role: Option<usize>,
    groups: Option<usize>,
    capacity: Option<usize>,
    password: Option<usize>,
}

impl Layout {
    fn of(header: &[String]) -> Option<Layout> {
        Some(Layout {
            username: column(header, "username")?,
            display_name: column(header, "display_name")?,
            role: column(header, "role"),
            groups: column(header, "groups"),
            capacity: column(header, "capacity"),
            password: column(header, "password"),
        })
    }
}

/// A trimmed cell; a missing column or a short row reads as empty.
fn cell(r: &[String], c: Option<usize>) -> String {
    c.and_then(|c| r.get(c)).map(|s| s.trim().to_owned()).unwrap_or_default()
}

fn role(s: &str) -> Result<Role, String> {
    match s.trim().to_lowercase().as_str() {
        "" | "agent" | "客服" => Ok(Role::Agent),
        "supervisor" | "主管" => Ok(Role::Supervisor),
        "admin" | "管理员" => Ok(Role::Admin),
        other => Err(format!("unknown role {other:?}: agent, supervisor or admin (客服, 主管, 管理员)")),
    }
}

fn groups(s: &str, all: &[SkillGroup]) -> Result<Vec<SkillGroup>, String> {
    s.split([',', ';', '|', '、', '，', '；'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| all.iter().find(|g| g.name == n).cloned().ok_or_else(|| format!("no skill group {n:?}")))
        .collect()
}

/// Checks every row against the rules, the other rows and the accounts that exist.
pub fn check_rows(
    table: &[Vec<String>],
    all_groups: &[SkillGroup],
    taken: &HashSet<String>,
) -> (Vec<Row>, Vec<RowError>) {
    let mut errors = vec![];
    let Some((header, rows)) = table.split_first() else {
        return (vec![], vec![RowError { row: 1, message: "the file is empty".into() }]);
    };
    let Some(layout) = Layout::of(header) else {
        let message = "the header must name at least username and display_name (用户名, 显示名)".into();
        return (vec![], vec![RowError { row: 1, message }]);
    };
    if rows.len() > MAX_ROWS {
        return (vec![], vec![RowError { row: 0, message: format!("at most {MAX_ROWS} accounts per file") }]);
    }
    let mut seen = HashSet::new();
    let mut out = vec![];
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty())) {
        let row_no = i + 2;
        let parsed = parse_row(r, &layout, all_groups);
        let checked = parsed.and_then(|row| {
            if taken.contains(&row.username) {
                Err(format!("the username {:?} already exists", row.username))
            } else if !seen.insert(row.username.clone()) {
                Err(format!("the username {:?} is in the file twice", row.username))
            } else {
                Ok(row)
            }
        });
        match checked {
            Ok(row) => out.push(row),
            Err(message) => errors.push(RowError { row: row_no, message }),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(RowError { row: 2, message: "the file has no accounts".into() });
    }
    (out, errors)
}

fn parse_row(r: &[String], at: &Layout, all_groups: &[SkillGroup]) -> Result<Row, String> {
    let capacity = match cell(r, at.capacity) {
        c if c.is_empty() => 5,
        c => c.parse().map_err(|_| format!("capacity {c:?} is not a number"))?,
    };
    let password = Some(cell(r, at.password)).filter(|p| !p.is_empty());
    let row = Row {
        username: cell(r, Some(at.username)),
        display_name: cell(r, Some(at.display_name)),
        role: role(&cell(r, at.role))?,
        groups: groups(&cell(r, at.groups), all_groups)?,
        capacity,
        password,
    };
    check_account(&row.username, &row.display_name, row.password.as_deref(), row.capacity)
        .map_err(|e| e.to_string())?;
    Ok(row)
}

/// Creates a whole team from a spreadsheet (admins): all of its accounts, or none.
#[utoipa::path(post, path = "/agents/import", operation_id = "import_agents", tag = "accounts", params(ImportQuery),
    request_body(description = "The file as the raw body, whatever its `Content-Type`: a header row naming at \
        least `username` and `display_name` (or 用户名, 显示名), optionally `role`, `groups` (names), `capacity` and \
        `password`; at most 500 accounts",
        content((String = "text/csv"), (crate::openapi::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::openapi::FileBytes = "application/octet-stream"))),
    responses((status = 200, description = "Every account was created", body = AccountImportReport),
        (status = 409, description = "A username was taken while the file was being checked; nothing was created",
            body = ErrorBody),
        (status = 422, description = "The file cannot be read, or a row is wrong (the rules of `POST /api/agents`, a \
            username twice, a skill group that does not exist): nothing was created", body = AccountImportRefused),
        (status = 429, description = "Every password hasher is busy; try again", body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    me.require(Role::Admin)?;
    // A file that cannot be read is a problem with its content, like a bad row: the same 422.
    let table = match kbio::read_table(q.format.into(), &body) {
        Ok(table) => table,
        Err(e) => {
            let message = format!("the file cannot be read ({}); no account was created", e.message);
            return Ok(AccountImportRefused::response(message, vec![e]));
        }
    };
    let all_groups = state.store.skill_groups().await?;
    let taken = state.store.agents().await?.into_iter().map(|a| a.username).collect();
    let (rows, errors) = check_rows(&table, &all_groups, &taken);
    if !errors.is_empty() {
        let message = format!("{} row(s) have problems; no account was created", errors.len());
        return Ok(AccountImportRefused::response(message, errors));
    }
    let mut new = vec![];
    let mut generated = vec![];
    for row in &rows {
        let password = row.password.clone().unwrap_or_else(crate::seed::random_password);
        generated.push(row.password.is_none().then(|| password.clone()));
        new.push(NewAgent {
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            password_hash: hash(&state, &password).await?,
            role: row.role,
            capacity: row.capacity,
            skill_groups: row.groups.iter().map(|g| g.id).collect(),
        });
    }
    let made = state.store.create_agents(new, state.clock.now()).await?;
    let created = made
        .into_iter()
        .zip(generated)
        .map(|(a, password)| CreatedAccount {
            id: a.id.0,
            username: a.username,
            display_name: a.display_name,
            role: a.role,
            password,
        })
        .collect();
    Ok(Json(AccountImportReport { created, errors: vec![] }).into_response())
}
