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

pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES.iter().filter(|r| r.is_api()) {
        let access = match r.access {
            Access::Anyone => "无需登录".to_string(),
            Access::Signed => "须登录".to_string(),
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
            op["requestBody"] = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecordBody"}}}});
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
            "schemas": {"RecordBody": {"type": "object", "properties": {
                "subject": {"type": "string", "description": "记录对象：身份证号、户编号等"},
                "place": {"type": "string", "description": "所属地点：区划代码或名称"},
                "version": {"type": "integer", "description": "修改和办理时必填：记录的当前版本"},
                "on": {"type": "string", "description": "办理日期"},
                "values": {"type": "object", "additionalProperties": true, "description": "字段键 → 值（文本，与表单和命令行的写法相同）"}
            }}}
        }
    })
}
