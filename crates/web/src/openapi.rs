//! The OpenAPI 3 document of `/api/v1`, generated from the route table.

use serde_json::{json, Map, Value};

use crate::routes::{Access, Confinement, ROUTES};

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let ty = if name == "id" { "integer" } else { "string" };
            json!({"name": name, "in": "path", "required": true, "schema": {"type": ty}})
        })
        .collect()
}

/// The body a write takes, by the last part of its path.
fn body_schema(method: &str, path: &str) -> &'static str {
    let last = path.rsplit('/').next().unwrap_or("");
    match (method, last) {
        ("PUT", "{id}") if path.starts_with("/api/v1/persons/") => "PersonCorrection",
        ("POST", "status") => "StatusChange",
        ("POST", "join") => "HouseholdJoin",
        ("POST", "leave") => "HouseholdLeave",
        ("POST", "head") => "HouseholdHead",
        ("POST", "split") => "HouseholdSplit",
        ("POST", "move") => "HouseholdMove",
        ("POST", "void" | "restore") => "VoidBody",
        ("PUT", "settings") => "SettingBody",
        ("POST", "persons") => "PersonBody",
        _ => "RecordBody",
    }
}

fn schemas() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    let date = json!({"type": "string", "description": "日期，如 2024-05-10（可写 2024-5-10）；不填为今天"});
    let version = json!({"type": "integer", "description": "当前版本（人员或记录的 version）"});
    json!({
        "RecordBody": {"type": "object", "properties": {
            "subject": text("记录对象：身份证号、户编号等"),
            "place": text("所属地点：区划代码或名称"),
            "version": {"type": "integer", "description": "修改和办理时必填：记录的当前版本"},
            "on": text("办理日期"),
            "values": {"type": "object", "additionalProperties": true, "description": "字段键 → 值（文本，与表单和命令行的写法相同）"}
        }},
        "PersonBody": {"type": "object", "required": ["name", "id_number", "place"], "properties": {
            "name": text("姓名"), "id_number": text("公民身份号码"), "ethnicity": text("民族"), "phone": text("联系电话"), "place": text("所在地：区划代码或名称")
        }},
        "PersonCorrection": {"type": "object", "required": ["version", "fields"], "properties": {
            "version": version,
            "reason": text("更正原因；更正姓名或公民身份号码时必填"),
            "fields": {"type": "object", "additionalProperties": {"type": "string"}, "description": "要更正的项（name 姓名、id_number 公民身份号码、ethnicity 民族、phone 联系电话，也可写中文名）→ 新值"}
        }},
        "StatusChange": {"type": "object", "required": ["version", "status", "date"], "properties": {
            "version": version,
            "status": text("死亡、迁出、迁入、失联 或 正常"),
            "date": text("变更日期（不能晚于今天）"),
            "reason": text("原因；已登记死亡的改为其他状态时必填"),
            "place": text("迁出时迁往何处、迁入时从何处迁入（迁出、迁入必填）")
        }},
        "HouseholdJoin": {"type": "object", "required": ["id_number", "relation"], "properties": {
            "id_number": text("加入者的公民身份号码（须已登记），或 #人员编号"),
            "relation": text("与户主关系：家庭关系代码的名称或代码，也可写 之子、儿子、子女、父母 等，按性别区分"),
            "date": date.clone(), "reason": text("出生、婚入、迁入等")
        }},
        "HouseholdLeave": {"type": "object", "required": ["person", "reason"], "properties": {
            "person": text("迁出成员的公民身份号码，或 #人员编号"),
            "reason": text("死亡、婚出、分户、迁出 或 其他；死亡、迁出同时登记为此人的状态"),
            "date": date.clone(), "place_text": text("迁出时迁往何处（迁出必填）"), "note": text("说明")
        }},
        "HouseholdHead": {"type": "object", "required": ["head"], "properties": {
            "head": text("新户主的公民身份号码，或 #人员编号（须为本户成员）"),
            "relations": {"type": "object", "additionalProperties": {"type": "string"}, "description": "其他成员（身份证号或 #编号）→ 与新户主的关系；不填的保留原关系"},
            "date": date.clone(), "reason": text("原因")
        }},
        "HouseholdSplit": {"type": "object", "required": ["number", "members"], "properties": {
            "number": text("新户编号"),
            "place": text("新户所在地：区划代码、名称、村/组 或 #编号；不填为本户所在地"),
            "members": {"type": "array", "description": "分出的成员，第一人为新户户主", "items": {"type": "object", "properties": {"person": text("公民身份号码或 #人员编号"), "relation": text("与新户主的关系（第一人不填）")}}},
            "date": date.clone()
        }},
        "HouseholdMove": {"type": "object", "required": ["place"], "properties": {
            "place": text("迁往的村或组：区划代码、名称、村/组 或 #编号（须在管辖范围内）"),
            "date": date, "reason": text("原因")
        }},
        "VoidBody": {"type": "object", "required": ["version"], "properties": {
            "version": version, "reason": text("作废原因（作废时必填）")
        }},
        "SettingBody": {"type": "object", "required": ["setting", "value"], "properties": {
            "setting": text("参数名称（如 防返贫监测标准（家庭人均纯收入））"),
            "year": {"type": "integer", "description": "年度（按年度设置的参数必填）"},
            "value": text("取值，按页面上的写法：金额写元，开关写 是/否")
        }}
    })
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES.iter().filter(|r| r.is_api()) {
        let access = match r.access {
            Access::Anyone => "无需登录".to_string(),
            Access::Own => "须登录（本人账号，任何角色）".to_string(),
            Access::Signed => "须登录（系统管理员、领导、业务员、村干部；安全管理员和审计管理员不能使用）".to_string(),
            Access::Editor => "须登录，且可编辑该台账".to_string(),
            Access::Worker => "须登录；按流程规定的角色办理，业务员限于分配给他的台账".to_string(),
            Access::Roles(roles) => format!("仅限：{}", roles.iter().map(|x| x.label()).collect::<Vec<_>>().join("、")),
        };
        let confinement = match r.confinement {
            Confinement::NoPlaceData => "不含区划数据",
            Confinement::Filtered => "只返回管辖范围内的数据",
            Confinement::ById => "管辖范围外的编号一律答复 404",
        };
        let mut op = json!({
            "summary": r.summary,
            "description": format!("{access}；{confinement}。"),
            "parameters": parameters(r.path),
            "responses": {
                "200": {"description": "成功", "content": {"application/json": {}}},
                "401": {"description": "未登录"},
                "403": {"description": "无权限，或缺少 X-CSRF-Token"},
                "404": {"description": "不存在或不在管辖范围内"},
            },
        });
        if r.access != Access::Anyone {
            op["security"] = json!([{"session": []}]);
        }
        if r.method != "GET" {
            let schema = format!("#/components/schemas/{}", body_schema(r.method, r.path));
            op["requestBody"] = json!({"content": {"application/json": {"schema": {"$ref": schema}}}});
            op["responses"]["409"] = json!({"description": "与现有数据冲突（如识别字段已被另一条记录占用），或已被他人修改（version 不符）"});
            op["responses"]["422"] = json!({"description": "所填内容不符合规则；fields 列出各项及原因"});
        }
        let path = r.path.strip_prefix("/api/v1").unwrap_or(r.path);
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "台账 Taizhang 接口", "version": env!("CARGO_PKG_VERSION"), "description": "登录后使用会话 Cookie；写操作须在 X-CSRF-Token 头中带上 /api/v1/me 返回的 csrf_token。"},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE}},
            "schemas": schemas()
        }
    })
}
