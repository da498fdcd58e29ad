//! Errors, worded for the township clerk who will read them.

use std::fmt;

/// Anything that stops a file from being read or written.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    #[error("无法打开文件 {file}：{reason}")]
    Open { file: String, reason: String },
    #[error("文件 {file} 设置了打开密码，请先在 Excel 或 WPS 中取消密码，再重新导入")]
    Encrypted { file: String },
    #[error("文件 {file} 不是能识别的表格格式：{hint}")]
    UnsupportedFormat { file: String, hint: String },
    #[error("文件中没有名为「{0}」的工作表")]
    UnknownSheet(String),
    #[error("找不到表头行：前 {rows} 行中没有一列能对应到 {expected}")]
    HeaderNotFound { rows: u32, expected: String },
    #[error("第 {first} 列和第 {second} 列都对应「{label}」，请删除或改名其中一列")]
    DuplicateColumn {
        first: String,
        second: String,
        label: String,
    },
    #[error("文件内容已损坏或不完整，无法继续读取：{0}")]
    Corrupt(String),
    #[error("读写文件出错：{0}")]
    Io(#[from] std::io::Error),
    #[error("生成 Excel 文件出错：{0}")]
    Write(String),
    #[error("写入的数据有误：{0}")]
    InvalidData(String),
}

impl From<rust_xlsxwriter::XlsxError> for TabularError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        TabularError::Write(e.to_string())
    }
}

impl From<csv::Error> for TabularError {
    fn from(e: csv::Error) -> Self {
        TabularError::Write(e.to_string())
    }
}

/// Either the file failed, or the caller's row handler asked to stop.
#[derive(Debug)]
pub enum ReadError<E> {
    Tabular(TabularError),
    Callback(E),
}

impl<E> From<TabularError> for ReadError<E> {
    fn from(e: TabularError) -> Self {
        ReadError::Tabular(e)
    }
}

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Tabular(e) => e.fmt(f),
            ReadError::Callback(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ReadError<E> {}
