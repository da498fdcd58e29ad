//! One error type for pages and the API. What a user can cause becomes a Chinese message with
//! the right status; internal failures are logged and shown as a generic sentence.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use taizhang_storage::StoreError;

/// Whether the error answers a page (HTML) or the API (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Page,
    Api,
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    /// Field-level reasons (key, label, reason) for forms and API clients.
    pub fields: Vec<taizhang_domain::FieldError>,
    pub flavour: Flavour,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError { status, message: message.into(), fields: Vec::new(), flavour: Flavour::Page }
    }
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, what)
    }
    pub fn forbidden(why: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, why)
    }
    pub fn bad_request(why: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, why)
    }
    pub fn api(mut self) -> AppError {
        self.flavour = Flavour::Api;
        self
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        // Another writer (an import) held the database longer than a write waits: try later.
        if e.is_busy() {
            return AppError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
        let status = match &e {
            StoreError::Domain(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Conflict(_) | StoreError::Stale(_) => StatusCode::CONFLICT,
            StoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let fields = match &e {
            StoreError::Domain(taizhang_domain::DomainError::Fields(f)) => f.clone(),
            _ => Vec::new(),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            eprintln!("台账服务内部错误：{e}");
            return AppError::new(status, "服务器内部错误，请稍后再试或联系管理员");
        }
        AppError { status, message: e.to_string(), fields, flavour: Flavour::Page }
    }
}

impl From<taizhang_domain::DomainError> for AppError {
    fn from(e: taizhang_domain::DomainError) -> AppError {
        StoreError::Domain(e).into()
    }
}

impl From<taizhang_reports::ReportError> for AppError {
    fn from(e: taizhang_reports::ReportError) -> AppError {
        match e {
            taizhang_reports::ReportError::Store(s) => s.into(),
            other => AppError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
        }
    }
}

impl From<taizhang_exchange::ExchangeError> for AppError {
    fn from(e: taizhang_exchange::ExchangeError) -> AppError {
        match e {
            taizhang_exchange::ExchangeError::Store(s) => s.into(),
            other => AppError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
        }
    }
}

impl From<minijinja::Error> for AppError {
    fn from(e: minijinja::Error) -> AppError {
        eprintln!("页面模板错误：{e:#}");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败，请联系管理员")
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self.flavour {
            Flavour::Api => {
                let body = serde_json::json!({ "error": self.message, "fields": self.fields });
                (self.status, axum::Json(body)).into_response()
            }
            Flavour::Page => {
                let title = match self.status {
                    StatusCode::NOT_FOUND => "未找到",
                    StatusCode::FORBIDDEN => "没有权限",
                    StatusCode::UNAUTHORIZED => "请先登录",
                    StatusCode::TOO_MANY_REQUESTS => "请稍后再试",
                    s if s.is_server_error() => "服务器错误",
                    _ => "无法办理",
                };
                let body = crate::views::error_page(title, &self.message);
                (self.status, Html(body)).into_response()
            }
        }
    }
}
