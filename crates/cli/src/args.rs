//! The command line. Help text is Chinese; command and flag names are English.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "taizhang", version, about = "台账：乡镇工作台账与年度总结", long_about = None)]
pub struct Cli {
    /// 数据库：文件路径或 sqlite:// 地址（默认 ./taizhang.db），或 postgres:// 地址
    #[arg(long, global = true, env = "TAIZHANG_DB")]
    pub db: Option<String>,
    /// 配置文件（可写 db = "..."）
    #[arg(long, global = true, default_value = "taizhang.toml")]
    pub config: String,
    /// 以哪个用户的身份操作（不填则为系统操作员，记入审计为 system）
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// Period and place, the same on every command that counts or lists.
#[derive(Debug, Args, Clone, Default)]
pub struct PeriodArgs {
    /// 年度，如 2023
    #[arg(long)]
    pub year: Option<i32>,
    /// 期间：2023、2023Q3、2023-07 或 2023-01-01..2023-06-30
    #[arg(long, conflicts_with = "year")]
    pub period: Option<String>,
    /// 时点（在册类台账按这一天统计），如 2023-12-31
    #[arg(long)]
    pub as_of: Option<String>,
    /// 地点（区划代码或名称）：该地点及其下级
    #[arg(long)]
    pub place: Option<String>,
}

/// How a report file looks and links: each option overrides its setting (参数「公文正文字体」,
/// 「系统网址」…) for this report only.
#[derive(Debug, Args, Clone, Default)]
pub struct ReportLookArgs {
    /// Word 报告标题的字体（默认取参数「公文标题字体」，未设为 方正小标宋简体）
    #[arg(long, value_name = "字体")]
    pub font_title: Option<String>,
    /// Word 报告正文的字体（默认取参数「公文正文字体」，未设为 仿宋_GB2312），如 --font-body 仿宋
    #[arg(long, value_name = "字体")]
    pub font_body: Option<String>,
    /// Word 报告一级标题（一、）的字体（默认取参数「公文一级标题字体」，未设为 黑体）
    #[arg(long, value_name = "字体")]
    pub font_heading1: Option<String>,
    /// Word 报告二级标题（（一））的字体（默认取参数「公文二级标题字体」，未设为 楷体_GB2312）
    #[arg(long, value_name = "字体")]
    pub font_heading2: Option<String>,
    /// Word 报告使用文档网格（字符网格，Word/WPS 中可见；LibreOffice 会每行只排 14 字）
    #[arg(long, conflicts_with = "no_grid")]
    pub grid: bool,
    /// Word 报告不用文档网格（默认；每行 28 字由字距排出，LibreOffice 也一样）
    #[arg(long)]
    pub no_grid: bool,
    /// 数字链接的系统网址，如 https://taizhang.example.gov.cn（默认取参数「系统网址」）；
    /// 都没有时 HTML 报告以脚注列出查看数字的命令，Word 报告的数字不带链接
    #[arg(long, value_name = "URL")]
    pub link_base: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 为一个乡镇新建数据库
    Init {
        /// 乡镇名称，如 北斗溪镇
        #[arg(long)]
        town: String,
        /// 乡镇的 12 位统计用区划代码
        #[arg(long)]
        code: String,
        /// 所属县名称（默认按代码前 6 位命名）
        #[arg(long)]
        county: Option<String>,
    },
    /// 区划：村、组
    #[command(subcommand)]
    Place(PlaceCmd),
    /// 人员
    #[command(subcommand)]
    Person(PersonCmd),
    /// 户
    #[command(subcommand)]
    Household(HouseholdCmd),
    /// 干部
    #[command(subcommand)]
    Cadre(CadreCmd),
    /// 单位（企业、合作社、经营网点等）
    #[command(subcommand)]
    Org(OrgCmd),
    /// 列出全部台账及其字段
    Ledgers {
        #[arg(long)]
        json: bool,
    },
    /// 台账定义
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// 台账记录
    #[command(subcommand)]
    Record(RecordCmd),
    /// 参数（如当年监测标准）
    #[command(subcommand)]
    Setting(SettingCmd),
    /// 列出指标及其数值（按期间、时点、地点）
    Indicators {
        #[command(flatten)]
        period: PeriodArgs,
        /// 按下级地点分列：town（镇，县级汇总）或 village（村）
        #[arg(long)]
        by: Option<String>,
        /// 与 --by 同用：不取已存的汇总数，全部从记录重新计算（结果仍会存下）
        #[arg(long)]
        fresh: bool,
        #[arg(long)]
        json: bool,
    },
    /// 数据检查：重复发放、死亡后发放、特困低保同享、重大隐患超期、监测户未走访、疑似重复登记
    Check {
        #[command(flatten)]
        period: PeriodArgs,
        #[arg(long)]
        json: bool,
        /// 发现问题时以非零状态（1）退出，供定时任务和脚本判断；不加时发现问题也正常退出
        #[arg(long)]
        fail_on_findings: bool,
    },
    /// 生成报告（如年度工作总结），输出 .md、.html 或 .docx；或填写县里的表格（.xlsx 样表）
    Report {
        #[command(flatten)]
        period: PeriodArgs,
        /// 模板：内置模板名（默认 annual_summary；表格如 social_assistance_monthly）或模板文件路径（.md.j2 或 .xlsx）
        #[arg(long)]
        template: Option<String>,
        /// 输出文件（.md、.html、.docx；表格模板为 .xlsx）
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// 成文日期（落款）和表格的填报日期，如 2024-01-05；不填为今天
        #[arg(long)]
        date: Option<String>,
        /// 有提醒（数字所依据的台账在该期间没有记录）时以状态 1 退出；文件照常生成
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        look: ReportLookArgs,
    },
    /// 解释一个指标：定义、条件、按村数值和背后的记录
    Explain {
        /// 指标键，如 dibao_rural_households
        indicator: String,
        #[command(flatten)]
        period: PeriodArgs,
        /// 列出的记录条数
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// 校核：逐个核对手写稿（.docx、.md、.txt、.html）里的数字与台账是否一致
    Verify {
        /// 稿件文件
        draft: std::path::PathBuf,
        #[command(flatten)]
        period: PeriodArgs,
        #[arg(long)]
        json: bool,
        /// 另存一份标注过的稿件：.docx（每个数字一条批注）或 .html（按结论标色）；原稿不改动
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
    /// 导入 Excel（.xlsx/.xls）或 CSV 文件到台账或人口库（默认整文件要么全部导入要么不导入）
    Import {
        /// 一个或多个文件
        #[arg(required = true)]
        files: Vec<String>,
        /// 台账键（不填则按工作表名识别；persons/households/cadres/organisations 为人口库）
        #[arg(long)]
        ledger: Option<String>,
        /// 只校验，不写入
        #[arg(long)]
        dry_run: bool,
        /// 写入正确的行，报告错误的行（多个文件时，也写入能读的文件）
        #[arg(long)]
        partial: bool,
        /// 只读这张工作表：表名，或从 1 数起的第几张
        #[arg(long, value_name = "表名或序号")]
        sheet: Option<String>,
        /// 整个文件统一填写一列的值，如 --set 发放月份=2024-02（该列为空的行填入，不同的行拒绝）；可多次使用
        #[arg(long = "set", value_name = "列名=值")]
        set: Vec<String>,
    },
    /// 导出台账为 .xlsx 或 .csv
    Export {
        /// 台账键
        ledger: String,
        #[command(flatten)]
        period: PeriodArgs,
        /// 输出文件（.xlsx 或 .csv）
        #[arg(short, long)]
        output: String,
    },
    /// 生成台账或人员、户、干部、单位的空白导入模板（.xlsx）
    Template {
        /// 台账键或名称；persons（人员/花名册）、households（户）、cadres（干部）、organisations（单位）
        ledger: String,
        /// 输出文件
        #[arg(short, long)]
        output: String,
    },
    /// 建立演示乡镇北斗溪镇：数据库、2023年工作总结（.md、.html、.docx）和数据核查结果
    Demo {
        /// 输出目录（其中建立 taizhang.db 和总结文件）
        #[arg(long, default_value = "beidouxi-demo")]
        out: std::path::PathBuf,
        /// 只生成数据和报告，不启动网页服务
        #[arg(long)]
        no_serve: bool,
        /// 规模：town（北斗溪镇一个镇）或 county（25 个镇，用于性能测试）
        #[arg(long, default_value = "town", value_parser = ["town", "county"])]
        scale: String,
        /// 目录中已有数据库时删除重建
        #[arg(long)]
        force: bool,
        /// 规模为 county 时建哪一个演示县：1（溆浦县，含北斗溪镇）或 2（虚构的沅溪县）；数据库中已有另一个县时在它旁边建立
        #[arg(long, default_value_t = 1)]
        county: usize,
    },
    /// 启动网页服务（浏览器访问；界面、接口均需登录）
    Serve {
        /// 监听地址；不是本机地址（127.0.0.1）时须启用 HTTPS（--tls-cert、--tls-key）或加 --allow-http
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// HTTPS 证书文件（PEM，可含中间证书链）；与 --tls-key 一起给出即内置 HTTPS
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// HTTPS 私钥文件（PEM）
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// 允许在非本机地址上以明文 HTTP 服务（只在 HTTPS 反向代理之后使用，并加 --secure-cookie）
        #[arg(long)]
        allow_http: bool,
        /// 会话 Cookie 只经 HTTPS 发送并发送 HSTS（在 HTTPS 反向代理之后使用；内置 HTTPS 时自动如此）
        #[arg(long)]
        secure_cookie: bool,
        /// 无操作多少分钟后自动退出登录（不填则按安全管理员设置的「登录超时」，默认 30）
        #[arg(long)]
        idle_minutes: Option<i64>,
        /// 请求头须在多少秒内收完（也是连接两次请求之间可空闲的时长），超时即断开连接
        #[arg(long, default_value_t = 20)]
        header_timeout: u64,
        /// 连接读写停滞多少秒即断开
        #[arg(long, default_value_t = 120)]
        idle_timeout: u64,
    },
    /// 用户（网页登录账号）
    #[command(subcommand)]
    User(UserCmd),
    /// 备份数据库：SQLite 在使用中复制出一致的副本并检查；PostgreSQL 调用 pg_dump
    Backup {
        /// 备份文件（不能已存在）
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// 从备份恢复数据库：SQLite 检查备份后替换（数据库正在使用时拒绝，原库改名保留）；PostgreSQL 用 pg_restore 恢复到新建的空数据库
    Restore {
        /// 备份文件
        file: std::path::PathBuf,
    },
    /// 把一个镇的数据库（SQLite 文件）并入县库：区划、人员、户、干部、单位、台账定义、各台账记录、佐证材料和操作日志，一次全部成功或全部不写；再次合并只带来镇里变化的部分
    Merge {
        /// 镇的数据库文件
        town: std::path::PathBuf,
        /// 县库：postgres:// 地址（也可以是 SQLite 文件）
        #[arg(long)]
        into: String,
        /// 试运行：列出将会新增、更新、未变和冲突的数量，不写入县库
        #[arg(long)]
        dry_run: bool,
        /// 有冲突时仍然合并（冲突照样列出）：已由他镇登记的同一人员、单位，镇的记录指向县库已有的那一条；台账定义保留县库的
        #[arg(long)]
        accept_conflicts: bool,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
    /// 查看操作日志；audit verify 核验操作日志的哈希链
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        action: Option<AuditCmd>,
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        entity_id: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// 核验操作日志的哈希链：逐条重算，报告共多少条完好，或第一处断裂（被修改、被删除、绕过程序写入）；断裂时以非零状态退出
    Verify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlaceCmd {
    /// 新增村或组
    Add {
        /// 上级地点（区划代码或名称）
        #[arg(long)]
        parent: String,
        #[arg(long)]
        name: String,
        /// 12 位统计用区划代码（组一般没有）
        #[arg(long)]
        code: Option<String>,
        /// 属性，如 脱贫村、重点村（可多次）
        #[arg(long = "attr")]
        attributes: Vec<String>,
    },
    /// 列出地点
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonCmd {
    /// 登记人员
    Add {
        #[arg(long)]
        name: String,
        /// 公民身份号码（18 位，末位可为 X；15 位旧号自动转换）
        #[arg(long)]
        id_number: String,
        /// 所属村或组
        #[arg(long)]
        place: String,
        #[arg(long, default_value = "")]
        ethnicity: String,
        #[arg(long, default_value = "")]
        phone: String,
    },
    /// 按姓名或身份证号查找
    Search {
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// 查看一人：信息、状态、所属户和修改记录
    Show {
        /// 公民身份号码
        id_number: String,
        #[arg(long)]
        json: bool,
    },
    /// 更正人员信息：字段写作 字段=值（姓名、公民身份号码、民族、联系电话）；更正姓名或身份证号须写 --reason
    Update {
        /// 公民身份号码
        id_number: String,
        /// 如 民族=苗族 联系电话=13800000000
        #[arg(required = true)]
        fields: Vec<String>,
        /// 更正原因（更正姓名、身份证号时必填）
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// 状态变更：死亡、迁出、迁入、失联、正常
    Status {
        /// 公民身份号码
        id_number: String,
        /// 死亡、迁出、迁入、失联 或 正常
        #[arg(long)]
        status: String,
        /// 日期，如 2024-05-10
        #[arg(long)]
        date: String,
        /// 原因
        #[arg(long, default_value = "")]
        reason: String,
        /// 迁出时迁往何处、迁入时从何处来
        #[arg(long = "to", visible_alias = "from", default_value = "")]
        place_text: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum HouseholdCmd {
    /// 新建户
    Add {
        #[arg(long)]
        number: String,
        #[arg(long)]
        place: String,
    },
    /// 把人员加入户（出生、婚入、迁入）
    Member {
        #[arg(long)]
        number: String,
        #[arg(long)]
        id_number: String,
        /// 与户主关系（GB/T 4761），如 户主、配偶、子、女；也可写 之子、儿子、子女、父母
        #[arg(long)]
        relation: String,
        /// 加入日期（默认今天）
        #[arg(long)]
        date: Option<String>,
        /// 原因，如 出生、婚入、迁入
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// 成员迁出户：死亡、婚出、分户、迁出、其他
    Leave {
        #[arg(long)]
        number: String,
        #[arg(long)]
        id_number: String,
        /// 死亡、婚出、分户、迁出 或 其他
        #[arg(long)]
        reason: String,
        /// 日期（默认今天）
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 户主变更：新户主须是本户成员；其他成员与新户主的关系用 --relation 身份证号=关系 给出
    Head {
        #[arg(long)]
        number: String,
        /// 新户主的公民身份号码
        #[arg(long)]
        id_number: String,
        /// 其他成员与新户主的关系，如 --relation 43122419800101001X=配偶（可多次）
        #[arg(long = "relation")]
        relations: Vec<String>,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// 分户：列出的成员分出为新户，第一人为新户户主
    Split {
        #[arg(long)]
        number: String,
        /// 新户的户编号
        #[arg(long)]
        new_number: String,
        /// 新户所在村或组（默认与原户相同）
        #[arg(long)]
        place: Option<String>,
        /// 分出的成员：身份证号=与新户主关系（第一人写 户主），如 --member 4312…=户主 --member 4312…=配偶
        #[arg(long = "member", required = true)]
        members: Vec<String>,
        #[arg(long)]
        date: Option<String>,
    },
    /// 整户迁到另一个组或村
    Move {
        #[arg(long)]
        number: String,
        /// 迁往的村或组
        #[arg(long)]
        place: String,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// 查看户：成员和变动历史
    Show {
        #[arg(long)]
        number: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CadreCmd {
    /// 登记干部
    Add {
        #[arg(long)]
        name: String,
        /// 镇干部、村干部、驻村工作队员、其他
        #[arg(long)]
        kind: String,
        #[arg(long, default_value = "")]
        post: String,
        #[arg(long, default_value = "")]
        unit: String,
        #[arg(long)]
        birth_date: Option<String>,
        #[arg(long)]
        place: String,
        #[arg(long, default_value = "")]
        phone: String,
    },
    /// 列出干部
    List {
        #[arg(long)]
        json: bool,
    },
    /// 修改干部信息：字段写作 字段=值（姓名、类别、职务、单位、出生日期、所属地点、联系电话）
    Update {
        /// 干部编号
        id: i64,
        #[arg(required = true)]
        fields: Vec<String>,
    },
    /// 离任：此后不能再被选为新记录的干部
    End {
        /// 干部编号
        id: i64,
        /// 离任日期
        #[arg(long)]
        date: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// 登记单位
    Add {
        #[arg(long)]
        name: String,
        /// 企业、农民专业合作社、经营网点、商店等
        #[arg(long)]
        kind: String,
        /// 统一社会信用代码
        #[arg(long)]
        uscc: Option<String>,
        #[arg(long)]
        place: String,
        #[arg(long, default_value = "")]
        address: String,
    },
    /// 列出单位
    List {
        #[arg(long)]
        json: bool,
    },
    /// 注销、停业：此后不能再被选为新记录的单位
    End {
        /// 单位编号
        id: i64,
        /// 注销日期
        #[arg(long)]
        date: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCmd {
    /// 按定义文件新增台账，或为已有台账增加、停用字段
    Define { file: String },
    /// 显示一个台账的定义
    Show {
        key: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordCmd {
    /// 新增记录：字段写作 键=值
    Add {
        ledger: String,
        /// 记录对象：身份证号、户编号、干部或单位名称，或编号
        #[arg(long)]
        subject: Option<String>,
        /// 所属地点（区划代码或名称）
        #[arg(long)]
        place: Option<String>,
        /// 所属年度（记录所涉年度与发生年度不同时）
        #[arg(long)]
        concerns_year: Option<i32>,
        fields: Vec<String>,
    },
    /// 修改记录
    Update {
        ledger: String,
        id: i64,
        /// 您看到的版本号（防止覆盖他人的修改）
        #[arg(long)]
        version: i64,
        fields: Vec<String>,
    },
    /// 办理流程环节
    Transition {
        ledger: String,
        id: i64,
        transition: String,
        #[arg(long)]
        version: i64,
        /// 办理日期（默认今天）
        #[arg(long)]
        on: Option<String>,
        fields: Vec<String>,
    },
    /// 作废记录（不删除：退出列表、统计、核查和报告，可由管理员恢复）
    Void {
        ledger: String,
        id: i64,
        /// 作废原因，如 重复录入
        #[arg(long)]
        reason: String,
        /// 您看到的版本号（不填则取当前版本）
        #[arg(long)]
        version: Option<i64>,
    },
    /// 恢复作废的记录（管理员）
    Restore {
        ledger: String,
        id: i64,
        #[arg(long)]
        version: Option<i64>,
    },
    /// 给记录上传佐证材料：照片（JPEG、PNG、WebP）、PDF、Word、Excel，可一次多个（docs/attachments.md）
    Attach {
        ledger: String,
        id: i64,
        /// 文件路径
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// 列出记录的佐证材料（含已撤下的）
    Attachments {
        ledger: String,
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// 列出记录
    List {
        ledger: String,
        #[command(flatten)]
        period: PeriodArgs,
        #[arg(long)]
        state: Option<String>,
        /// 作废的记录：include 一并列出，only 只列作废的
        #[arg(long, value_parser = ["include", "only"])]
        voided: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// 列出逾期未办结的记录（不指定台账则查全部有期限的台账）
    Overdue {
        ledger: Option<String>,
        #[arg(long)]
        place: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// 统计记录条数
    Count {
        ledger: String,
        #[command(flatten)]
        period: PeriodArgs,
        #[arg(long)]
        state: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingCmd {
    /// 设置参数：名称、年度（按年度设置的参数）、值，如 setting set 防返贫监测标准 2024 7200；金额按元填写
    Set {
        /// 参数名称，如 防返贫监测标准、监测户走访间隔上限、特困与低保可同时享受、下达指标：…
        name: String,
        /// [年度] 值
        #[arg(required = true, num_args = 1..=2, value_names = ["年度", "值"], allow_negative_numbers = true)]
        rest: Vec<String>,
    },
    /// 列出全部参数：名称、单位、说明和已设的值
    List {
        #[arg(long)]
        json: bool,
        /// 也列出各指标的下达指标
        #[arg(long)]
        targets: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// 新增用户（首次登录须修改密码）
    Add {
        username: String,
        /// 角色：admin 系统管理员、security_admin 安全管理员、audit_admin 审计管理员、leader 领导、clerk 业务员、village_cadre 村干部
        #[arg(long)]
        role: String,
        /// 管辖范围：区划代码或名称
        #[arg(long)]
        place: String,
        /// 业务员可编辑的台账键，逗号分隔
        #[arg(long, value_delimiter = ',')]
        ledgers: Vec<String>,
        /// 显示名
        #[arg(long)]
        name: Option<String>,
        /// 初始密码（不填则从标准输入读取一行）
        #[arg(long)]
        password: Option<String>,
    },
    /// 重置用户密码（从标准输入读取；下次登录须修改）
    Passwd {
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// 列出用户
    List {
        #[arg(long)]
        json: bool,
    },
    /// 改变用户的角色（三员分立：系统管理员、安全管理员、审计管理员各由不同的人担任）
    Role {
        username: String,
        /// 新角色：admin、security_admin、audit_admin、leader、clerk、village_cadre（或中文名称）
        #[arg(long)]
        role: String,
        /// 业务员可编辑的台账键，逗号分隔
        #[arg(long, value_delimiter = ',')]
        ledgers: Vec<String>,
    },
    /// 停用账号（不能再登录，已登录的会话立即失效）
    Disable { username: String },
    /// 启用停用的账号
    Enable { username: String },
    /// 解除因连续输错密码而锁定的账号
    Unlock { username: String },
}
