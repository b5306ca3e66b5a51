//! A synthetic knowledge base of any size, for benchmarks: plausible Chinese customer-service
//! questions built from topics, actions and question frames, deterministic for a seed.

use kefu_domain::FaqEntry;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOPICS: &[&str] = &[
    "订单",
    "发票",
    "退款",
    "退货",
    "换货",
    "快递",
    "物流",
    "地址",
    "优惠券",
    "积分",
    "会员",
    "账号",
    "密码",
    "手机号",
    "套餐",
    "流量",
    "话费",
    "宽带",
    "路由器",
    "光猫",
    "空调",
    "冰箱",
    "洗衣机",
    "电视",
    "耳机",
    "手表",
    "音箱",
    "充电器",
    "保修",
    "维修",
    "安装",
    "预约",
    "营业厅",
    "门店",
    "客服",
    "合同",
    "押金",
    "租金",
    "保险",
    "理赔",
    "贷款",
    "信用卡",
    "余额",
    "提现",
    "转账",
    "红包",
    "课程",
    "证书",
    "考试",
    "报名",
    "门票",
    "酒店",
    "机票",
    "签证",
    "行李",
    "座位",
];
const ACTIONS: &[&str] = &[
    "申请", "取消", "修改", "查询", "开通", "关闭", "办理", "更换", "补办", "延期", "续费", "激活", "绑定",
    "解绑", "升级", "降级", "退订", "注销", "领取", "使用", "兑换", "转让", "冻结", "恢复", "找回", "设置",
    "上传", "下载", "打印", "预约",
];
const FRAMES: &[&str] = &[
    "怎么{a}{t}？",
    "{t}可以{a}吗？",
    "{t}{a}需要多久？",
    "{a}{t}要收费吗？",
    "在哪里{a}{t}？",
    "{t}{a}失败了怎么办？",
    "{a}{t}需要什么材料？",
    "为什么不能{a}{t}？",
];
const LEADS: &[&str] =
    &["", "", "我的", "家里的", "公司的", "新买的", "上个月的", "昨天的", "第二个", "国际"];

fn question(rng: &mut StdRng) -> String {
    let t =
        format!("{}{}", LEADS[rng.random_range(0..LEADS.len())], TOPICS[rng.random_range(0..TOPICS.len())]);
    let a = ACTIONS[rng.random_range(0..ACTIONS.len())];
    FRAMES[rng.random_range(0..FRAMES.len())].replace("{t}", &t).replace("{a}", a)
}

/// `n` entries, each with one similar question and a short answer.
pub fn knowledge_base(n: usize, seed: u64) -> Vec<FaqEntry> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let q = question(&mut rng);
            FaqEntry {
                id: format!("S{i:06}"),
                similar: vec![question(&mut rng)],
                answer: format!(
                    "关于“{q}”：请在 APP 的“服务”页面按提示操作，一般 1-3 个工作日内处理完毕。编号 {i}。"
                ),
                question: q,
                group: None,
                enabled: true,
                channel_answers: Default::default(),
            }
        })
        .collect()
}

/// Customer-style queries: reworded versions of random questions.
pub fn queries(n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    (0..n).map(|_| format!("你好，{}急", question(&mut rng).trim_end_matches('？'))).collect()
}
