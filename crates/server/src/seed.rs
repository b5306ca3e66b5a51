//! First-start data: a bootstrap admin and web chat channel, and the richer `kefu demo` set.

use kefu_domain::{ChannelKind, Clock, Role};
use kefu_store::{NewAgent, NewChannel, Store};
use rand::RngCore;
use serde_json::json;

use crate::auth::hash_password;

/// A login that was created, to print for the operator.
#[derive(Debug, Clone)]
pub struct Login {
    pub username: String,
    pub password: String,
    pub role: Role,
}

pub async fn webchat_channel(
    store: &dyn Store,
    clock: &dyn Clock,
    key: &str,
    name: &str,
) -> anyhow::Result<()> {
    let new = NewChannel {
        kind: ChannelKind::Webchat,
        key: key.into(),
        name: name.into(),
        settings: json!({ "welcome": "您好，欢迎咨询！请问有什么可以帮您？" }),
        secrets: json!({}),
    };
    store.create_channel(new, clock.now()).await?;
    Ok(())
}

/// A password to print once (18 hex digits, 72 random bits).
pub fn random_password() -> String {
    let mut bytes = [0u8; 9];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// On an empty database, creates an `admin` with a random password and a web chat channel, so
/// `kefu serve` is usable at once. Returns the admin login to print, or `None` if not empty.
pub async fn bootstrap(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<Option<Login>> {
    if !store.agents().await?.is_empty() {
        return Ok(None);
    }
    let login = Login { username: "admin".into(), password: random_password(), role: Role::Admin };
    // The only account of a fresh install also answers customers. Nodes starting together
    // on an empty database race here: one creates the admin, the others find it taken.
    match add_agent(store, clock, &login, "管理员", &[], 5).await {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.downcast_ref::<kefu_store::StoreError>(),
                Some(kefu_store::StoreError::Conflict(_))
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    }
    if store.channels().await?.is_empty()
        && let Err(e) = webchat_channel(store, clock, "web", "官网在线客服").await
        && !matches!(e.downcast_ref::<kefu_store::StoreError>(), Some(kefu_store::StoreError::Conflict(_)))
    {
        return Err(e);
    }
    Ok(Some(login))
}

async fn add_agent(
    store: &dyn Store,
    clock: &dyn Clock,
    l: &Login,
    name: &str,
    groups: &[&str],
    capacity: u32,
) -> anyhow::Result<()> {
    let all = store.skill_groups().await?;
    let skill_groups = all.iter().filter(|g| groups.contains(&g.name.as_str())).map(|g| g.id).collect();
    let new = NewAgent {
        username: l.username.clone(),
        display_name: name.into(),
        password_hash: hash_password(&l.password)?,
        role: l.role,
        capacity,
        skill_groups,
    };
    store.create_agent(new, clock.now()).await?;
    Ok(())
}

/// Username, password, role, display name, skill groups, capacity.
type DemoAgent = (&'static str, &'static str, Role, &'static str, &'static [&'static str], u32);

/// The demo company: skill groups, one login per role, and the website chat.
pub async fn demo(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<Vec<Login>> {
    demo_groups(store, clock).await?;
    // The demo admin configures; capacity 0 keeps routing from giving them conversations.
    let people: [DemoAgent; 4] = [
        ("admin", "admin123", Role::Admin, "管理员", &[], 0),
        ("lead", "lead123", Role::Supervisor, "张主管", &["售前咨询", "售后服务", "技术支持"], 0),
        ("agent1", "agent123", Role::Agent, "小李", &["售前咨询"], 5),
        ("agent2", "agent123", Role::Agent, "小王", &["售后服务", "技术支持"], 5),
    ];
    let mut logins = vec![];
    for (user, pw, role, name, groups, capacity) in people {
        let l = Login { username: user.into(), password: pw.into(), role };
        add_agent(store, clock, &l, name, groups, capacity).await?;
        logins.push(l);
    }
    webchat_channel(store, clock, "web", "官网在线客服").await?;
    Ok(logins)
}

/// The demo company's skill groups with their routing rules: keywords send refunds to
/// after-sales and quotes to pre-sales; after-sales round-robins and has its own closing words.
async fn demo_groups(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    use kefu_domain::{GroupRouting, Strategy};
    let groups = [
        ("售前咨询", Strategy::LeastLoad, vec!["报价", "多少钱", "re:(优惠|折扣|活动)"], None),
        (
            "售后服务",
            Strategy::RoundRobin,
            vec!["退款", "退货", "换货", "售后", "维修"],
            Some("感谢您的耐心，售后问题已记录。如需进度查询，随时留言给我们。"),
        ),
        ("技术支持", Strategy::LeastLoad, vec!["安装", "故障", "报错"], None),
    ];
    for (name, strategy, keywords, closing) in groups {
        let mut g = store.create_skill_group(name, clock.now()).await?;
        g.routing = GroupRouting {
            strategy,
            keywords: keywords.into_iter().map(str::to_owned).collect(),
            closing_message: closing.map(str::to_owned),
            ..GroupRouting::default()
        };
        store.update_skill_group(&g).await?;
    }
    Ok(())
}

/// The demo company's small knowledge base, for the bot.
pub async fn demo_faq(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    let faq: Vec<kefu_domain::FaqEntry> = DEMO_FAQ
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    store.put_faqs(faq, clock.now()).await?;
    Ok(())
}

/// The demo company's small knowledge base.
const DEMO_FAQ: &str = include_str!("../demo-faq.jsonl");

/// Connects kefu to the platform sandbox: one channel per simulated account (公众号, 企业微信
/// app, 微信客服), with API calls going to the sandbox and its callbacks coming to `kefu_base`.
pub async fn sandbox(
    store: &dyn Store,
    clock: &dyn Clock,
    sim: &kefu_sim::SimHandle,
    kefu_base: &str,
) -> anyhow::Result<()> {
    use kefu_sim::CallbackTarget;
    let cfg = sim.config().clone();
    let api = sim.base_url.clone();
    let add = |kind, key: &str, name: &str, settings: serde_json::Value, secrets: serde_json::Value| {
        NewChannel { kind, key: key.into(), name: name.into(), settings, secrets }
    };
    for (i, oa) in cfg.oa.iter().enumerate() {
        let key = if i == 0 { "wechat".to_owned() } else { format!("wechat{i}") };
        let settings = json!({ "app_id": oa.app_id, "mode": "safe", "api_base": api, "sandbox_url": api,
            "original_id": oa.original_id, "welcome": "感谢关注！本周新用户首单立减 20 元，回复“优惠”了解详情 🎁" });
        let secrets = json!({ "app_secret": oa.app_secret, "token": oa.token, "encoding_aes_key": oa.encoding_aes_key });
        store
            .create_channel(
                add(ChannelKind::WechatOa, &key, "微信公众号（沙箱）", settings, secrets),
                clock.now(),
            )
            .await?;
        sim.set_callback_url(
            CallbackTarget::Oa(oa.app_id.clone()),
            &format!("{kefu_base}/callback/wechat/{key}"),
        )?;
    }
    for corp in &cfg.wecom {
        if let Some(app) = &corp.app {
            let settings = json!({ "corp_id": corp.corp_id, "agent_id": app.agent_id.to_string(), "api_base": api,
                "sandbox_url": api, "welcome": "您好，这里是内部 IT 服务台，请描述您遇到的问题。" });
            let secrets = json!({ "app_secret": app.secret, "token": app.token, "encoding_aes_key": app.encoding_aes_key });
            store
                .create_channel(
                    add(ChannelKind::Wecom, "wecom", "企业微信应用（沙箱）", settings, secrets),
                    clock.now(),
                )
                .await?;
            sim.set_callback_url(
                CallbackTarget::WecomApp(corp.corp_id.clone()),
                &format!("{kefu_base}/callback/wecom/wecom"),
            )?;
        }
        if let Some(kf) = &corp.kf {
            for (i, kfid) in kf.open_kfids.iter().enumerate() {
                let key = if i == 0 { "wxkf".to_owned() } else { format!("wxkf{i}") };
                let settings = json!({ "corp_id": corp.corp_id, "open_kfid": kfid, "api_base": api, "sandbox_url": api,
                    "welcome": "您好，欢迎咨询微信客服！请问有什么可以帮您？" });
                let secrets = json!({ "app_secret": kf.secret, "token": kf.token, "encoding_aes_key": kf.encoding_aes_key });
                store
                    .create_channel(
                        add(ChannelKind::WecomKf, &key, "微信客服（沙箱）", settings, secrets),
                        clock.now(),
                    )
                    .await?;
            }
            sim.set_callback_url(
                CallbackTarget::Kf(corp.corp_id.clone()),
                &format!("{kefu_base}/callback/wecom/wxkf"),
            )?;
        }
    }
    for (i, dt) in cfg.dingtalk.iter().enumerate() {
        let key = if i == 0 { "dingtalk".to_owned() } else { format!("dingtalk{i}") };
        let settings = json!({ "app_key": dt.app_key, "api_base": api, "oapi_base": api, "sandbox_url": api,
            "welcome": "您好，我是钉钉客服助手，请直接描述您的问题。" });
        let secrets = json!({ "app_secret": dt.app_secret, "event_token": dt.event_token, "event_aes_key": dt.event_aes_key });
        store
            .create_channel(
                add(ChannelKind::Dingtalk, &key, "钉钉机器人（沙箱）", settings, secrets),
                clock.now(),
            )
            .await?;
        let url = format!("{kefu_base}/callback/dingtalk/{key}");
        sim.set_callback_url(CallbackTarget::DingtalkEvents(dt.app_key.clone()), &format!("{url}/events"))?;
        sim.set_callback_url(CallbackTarget::DingtalkRobot(dt.app_key.clone()), &url)?;
    }
    sandbox_sms(store, clock, &cfg, &api).await
}

/// Verification codes go to the sandbox's Aliyun SMS service; its page shows them (短信收件箱).
async fn sandbox_sms(
    store: &dyn Store,
    clock: &dyn Clock,
    cfg: &kefu_sim::SimConfig,
    api: &str,
) -> anyhow::Result<()> {
    let Some(acct) = cfg.sms.iter().find(|a| a.provider == "aliyun") else { return Ok(()) };
    let settings = kefu_channels::sms::SmsSettings {
        provider: "aliyun".into(),
        endpoint: format!("{api}/sms/aliyun/"),
        access_key_id: acct.access_key_id.clone(),
        sign_name: acct.sign_name.clone(),
        template: acct.template.clone(),
        ..Default::default()
    };
    let setting = kefu_engine::verify::SMS_SETTING;
    store.put_setting(setting, &serde_json::to_value(settings)?, clock.now()).await?;
    store.put_setting_secrets(setting, &json!({ "access_key_secret": acct.access_key_secret })).await?;
    Ok(())
}
