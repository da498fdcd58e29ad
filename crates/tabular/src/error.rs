//! Errors, worded for the township clerk who will read them.

use std::fmt;

use crate::limits::bytes_text;

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
    /// No row among the first `rows` matched any of the caller's columns. A caller reading
    /// every sheet of a workbook matches this to report the sheet as skipped; `looks` says
    /// whether the sheet is empty or reads like filling instructions (填表说明).
    #[error("文件「{file}」的工作表「{sheet}」找不到表头行：{}", no_header_reason(*.looks, *.rows, .expected))]
    NoHeader {
        file: String,
        sheet: String,
        rows: u32,
        expected: String,
        looks: SheetLooks,
    },
    #[error("第 {first} 列和第 {second} 列都对应「{label}」，请删除或改名其中一列")]
    DuplicateColumn {
        first: String,
        second: String,
        label: String,
    },
    /// A cell longer than `Limits::cell_chars`.
    #[error("{}的单元格超过 {limit} 个字符（Excel 一个单元格最多 32767 个字符），文件可能已损坏或不是正常保存的表格，未读取。请检查这个单元格", place(.file, .sheet.as_deref(), Some(*.row), .column.as_deref()))]
    CellTooLarge {
        file: String,
        /// `None` for a CSV file, which has no sheets.
        sheet: Option<String>,
        row: u32,
        /// Column letter, when known.
        column: Option<String>,
        limit: usize,
    },
    /// A row (a CSV line) longer than `Limits::row_bytes`.
    #[error("{}的内容超过 {}，文件可能已损坏（例如缺了一个引号，后面的内容都连成了一行），未读取", place(.file, .sheet.as_deref(), Some(*.row), None), bytes_text(*.limit as u64))]
    RowTooLarge {
        file: String,
        sheet: Option<String>,
        row: u32,
        limit: usize,
    },
    /// A row with more columns than `Limits::row_cells`.
    #[error("{}超过 {limit} 列（Excel 最多 16384 列），文件可能已损坏，未读取", place(.file, .sheet.as_deref(), Some(*.row), None))]
    TooManyColumns {
        file: String,
        sheet: Option<String>,
        row: u32,
        limit: u32,
    },
    /// One entry of an xlsx shared-string table longer than `Limits::shared_string_chars`.
    #[error("文件「{file}」的共享文本表中第 {index} 条文本超过 {limit} 个字符（Excel 一个单元格最多 32767 个字符），文件可能已损坏或被人为构造，未读取")]
    SharedStringTooLarge {
        file: String,
        index: usize,
        limit: usize,
    },
    /// The whole shared-string table larger than `Limits::shared_strings_bytes`.
    #[error("文件「{file}」的共享文本表超过 {}，文件可能已损坏或被人为构造，未读取。如确是正常的大表，请分成几个文件导入", bytes_text(*.limit as u64))]
    SharedStringsTooLarge { file: String, limit: usize },
    /// A part of an xlsx decompressing past `Limits::entry_bytes` (or `part_bytes`).
    #[error("文件「{file}」中的{part}解压后超过 {}，文件可能已损坏或被人为构造，未读取。如确是正常的大表，请分成几个文件导入", bytes_text(*.limit))]
    EntryTooLarge {
        file: String,
        part: String,
        limit: u64,
    },
    /// A part of an xlsx decompressing more than `Limits::entry_ratio` times its size.
    #[error("文件「{file}」中的{part}解压后是压缩时的 {limit} 倍以上，这是“压缩炸弹”的特征，正常的表格不会这样，未读取")]
    CompressionRatio {
        file: String,
        part: String,
        limit: u64,
    },
    /// An .xls that calamine would need more than `Limits::xls_bytes` of memory to open.
    #[error(
        "文件「{file}」是旧版 .xls 格式，打开它需要超过 {} 内存（旧版格式要把整个文件一次读入），为免拖垮系统，未读取。请用 Excel 或 WPS 打开，另存为 .xlsx 后再导入",
        bytes_text(*.limit)
    )]
    XlsTooLarge { file: String, limit: u64 },
    /// A CSV whose bytes stop being valid in the encoding chosen from its beginning.
    #[error("文件「{file}」从第 {row} 行起不是前文所用的 {encoding} 编码：文件中途换了编码（常见于把两个不同编码的文件拼在一起），为免存入乱码，未读取。请用记事本或 WPS 打开，统一另存为 UTF-8 编码的 CSV 后重新导入")]
    EncodingChanged {
        file: String,
        row: u32,
        encoding: String,
    },
    #[error("文件内容已损坏或不完整，无法继续读取：{0}")]
    Corrupt(String),
    #[error("读写文件出错：{}", io_text(.0))]
    Io(#[from] std::io::Error),
    #[error("生成 Excel 文件出错：{0}")]
    Write(String),
    #[error("写入的数据有误：{0}")]
    InvalidData(String),
}

/// What a sheet without a matching header looks like, so a caller can say why it skipped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetLooks {
    /// Nothing in the rows searched.
    Empty,
    /// A few cells of prose in one or two columns, or a sheet named like 填表说明.
    Instructions,
    /// A table whose headers are not the ones asked for.
    Table,
}

fn no_header_reason(looks: SheetLooks, rows: u32, expected: &str) -> String {
    match looks {
        SheetLooks::Empty => format!("前 {rows} 行是空的"),
        SheetLooks::Instructions => {
            format!("这张表像是填表说明，前 {rows} 行中没有一列能对应到 {expected}")
        }
        SheetLooks::Table => format!("前 {rows} 行中没有一列能对应到 {expected}"),
    }
}

/// "文件「a.xlsx」工作表「花名册」第 12 行 C 列".
fn place(file: &str, sheet: Option<&str>, row: Option<u32>, column: Option<&str>) -> String {
    let mut s = format!("文件「{file}」");
    if let Some(sheet) = sheet {
        s.push_str(&format!("工作表「{sheet}」"));
    }
    if let Some(row) = row {
        s.push_str(&format!("第 {row} 行"));
    }
    if let Some(col) = column {
        s.push_str(&format!(" {col} 列"));
    }
    s
}

/// The operating system's messages are in English; a clerk gets what happened in Chinese.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "文件不存在".to_string(),
        K::PermissionDenied => "没有读写权限，或文件正被其他程序占用".to_string(),
        K::UnexpectedEof => "文件不完整（提前结束）".to_string(),
        K::InvalidData => "文件内容无效".to_string(),
        K::StorageFull => "磁盘空间不足".to_string(),
        K::AlreadyExists => "文件已存在".to_string(),
        K::OutOfMemory => "内存不足".to_string(),
        K::Interrupted | K::TimedOut | K::WouldBlock => "读写被中断，请重试".to_string(),
        _ => match e.raw_os_error() {
            Some(code) => format!("系统错误（错误码 {code}）"),
            None => "系统错误".to_string(),
        },
    }
}

impl TabularError {
    /// Whether this is one of the limits on hostile files (not merely a damaged one).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            TabularError::CellTooLarge { .. }
                | TabularError::RowTooLarge { .. }
                | TabularError::TooManyColumns { .. }
                | TabularError::SharedStringTooLarge { .. }
                | TabularError::SharedStringsTooLarge { .. }
                | TabularError::EntryTooLarge { .. }
                | TabularError::CompressionRatio { .. }
                | TabularError::XlsTooLarge { .. }
        )
    }
}

impl From<rust_xlsxwriter::XlsxError> for TabularError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        use rust_xlsxwriter::XlsxError as X;
        match e {
            X::IoError(io) => TabularError::Io(io),
            X::MaxStringLengthExceeded => {
                TabularError::Write("文本超过 Excel 单元格 32767 个字符的上限".to_string())
            }
            X::RowColumnLimitError => {
                TabularError::Write("超过 Excel 的行数或列数上限".to_string())
            }
            X::SheetnameCannotBeBlank(_)
            | X::SheetnameLengthExceeded(_)
            | X::SheetnameContainsInvalidCharacter(_)
            | X::SheetnameStartsOrEndsWithApostrophe(_)
            | X::SheetnameReused(_) => {
                TabularError::Write("工作表名称不符合 Excel 的要求".to_string())
            }
            // Anything else is a mistake in how this crate calls the writer, not the user's doing.
            other => TabularError::Write(format!(
                "内部错误（{}）",
                variant_name(&format!("{other:?}"))
            )),
        }
    }
}

/// The variant of a library error without its English message, for a developer to look up.
fn variant_name(debug: &str) -> String {
    debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

impl From<csv::Error> for TabularError {
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => TabularError::Io(io),
            other => TabularError::Write(format!(
                "内部错误（{}）",
                variant_name(&format!("{other:?}"))
            )),
        }
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
