//! Opening a file by what it contains rather than what it is called:
//! county systems send HTML named .xls and CSV named .xlsx.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use calamine::{Reader, SheetVisible, Xls, XlsError, Xlsx, XlsxError};

use crate::csv_read::read_csv;
use crate::decode::utf16_without_bom;
use crate::error::{io_text, ReadError, TabularError};
use crate::excel::{read_xls, read_xlsx, XlsBook, XlsxSource};
use crate::guard::no_panic;
use crate::limits::Limits;
use crate::meter::Ctx;
use crate::model::{ColumnSpec, FileFormat, RawRow, RowSink, SheetInfo, SheetLayout};
use crate::xls_guard::vet_xls;

const ZIP_MAGIC: [&[u8]; 3] = [b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"];
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const SNIFF_BYTES: usize = 1024;

/// An opened spreadsheet or CSV file.
pub struct Source {
    path: PathBuf,
    /// The file's name as messages show it.
    file: String,
    limits: Limits,
    inner: Inner,
}

enum Inner {
    Xlsx(Box<XlsxSource>),
    Xls(Box<XlsBook>),
    Csv { sheet: String },
}

/// Opens a file, deciding between xlsx, xls and CSV from its first bytes, under the default
/// `Limits`.
pub fn open(path: &Path) -> Result<Source, TabularError> {
    open_with(path, Limits::default())
}

/// Opens a file under the given limits (an xlsx's shared strings are read here, so the
/// limits are needed from the start).
pub fn open_with(path: &Path, limits: Limits) -> Result<Source, TabularError> {
    let file_name = display_name(path);
    let open_err = |reason: String| TabularError::Open {
        file: file_name.clone(),
        reason,
    };
    let mut file = File::open(path).map_err(|e| open_err(io_reason(&e)))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| open_err(io_reason(&e)))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| open_err(io_reason(&e)))?;

    let inner = if ZIP_MAGIC.iter().any(|m| head.starts_with(m)) {
        drop(file);
        Inner::Xlsx(Box::new(XlsxSource::open(path, &file_name, limits)?))
    } else if head.starts_with(&OLE_MAGIC) {
        open_ole(path, file, &file_name, &limits)?
    } else {
        sniff_text(&head, &file_name)?;
        Inner::Csv {
            sheet: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    };
    Ok(Source {
        path: path.to_path_buf(),
        file: file_name,
        limits,
        inner,
    })
}

/// An OLE container is either an old .xls or an encrypted .xlsx.
fn open_ole(
    path: &Path,
    file: File,
    file_name: &str,
    limits: &Limits,
) -> Result<Inner, TabularError> {
    // calamine loads the whole workbook here; it must not meet what it cannot bound.
    no_panic(|| vet_xls(path, file_name, limits))??;
    match no_panic(|| Xls::new(BufReader::new(file)))? {
        Ok(book) => Ok(Inner::Xls(Box::new(book))),
        Err(XlsError::Password) => Err(TabularError::Encrypted {
            file: file_name.to_string(),
        }),
        Err(_) => {
            // calamine only checks the OLE directory for the encryption streams here; an
            // encrypted xlsx is an OLE file holding nothing else it would read.
            let again = File::open(path).map_err(TabularError::Io)?;
            if let Ok(Err(XlsxError::Password)) = no_panic(|| Xlsx::new(BufReader::new(again))) {
                return Err(TabularError::Encrypted {
                    file: file_name.to_string(),
                });
            }
            Err(TabularError::Open {
                file: file_name.to_string(),
                reason: "不是有效的 xls 文件，可能已损坏".to_string(),
            })
        }
    }
}

/// Rejects what is clearly not CSV before it produces a baffling
/// "找不到表头行".
fn sniff_text(head: &[u8], file_name: &str) -> Result<(), TabularError> {
    let utf16 = head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || utf16_without_bom(head).is_some();
    if !utf16 && head.contains(&0) {
        return Err(TabularError::UnsupportedFormat {
            file: file_name.to_string(),
            hint: "内容不是 Excel 或 CSV 表格，请确认选对了文件".to_string(),
        });
    }
    let text = String::from_utf8_lossy(head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head))
        .to_ascii_lowercase();
    let text = text.trim_start();
    if text.starts_with('<')
        && ["<html", "<table", "<?xml", "<!doctype"]
            .iter()
            .any(|t| text.contains(t))
    {
        return Err(TabularError::UnsupportedFormat {
            file: file_name.to_string(),
            hint: "这是网页（HTML/XML）格式的表格，常见于从业务系统导出的“.xls”文件。请用 Excel 或 WPS 打开，另存为 .xlsx 后再导入".to_string(),
        });
    }
    Ok(())
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "没有读取权限，或文件正被其他程序占用".to_string(),
        _ => io_text(e),
    }
}

impl Source {
    pub fn format(&self) -> FileFormat {
        match self.inner {
            Inner::Xlsx(_) => FileFormat::Xlsx,
            Inner::Xls(_) => FileFormat::Xls,
            Inner::Csv { .. } => FileFormat::Csv,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The limits reads of this file are held to.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sheet names in workbook order; a CSV file is one sheet named after
    /// the file.
    pub fn sheet_names(&self) -> Vec<String> {
        self.sheets().into_iter().map(|s| s.name).collect()
    }

    /// The sheets in workbook order, with whether each is hidden. A caller importing
    /// "every sheet" reads each in turn with `read_sheet` (or `find_header` first), and
    /// reports a `TabularError::NoHeader` as a sheet skipped.
    pub fn sheets(&self) -> Vec<SheetInfo> {
        let pairs: Vec<(String, bool)> = match &self.inner {
            Inner::Xlsx(src) => src.sheets(),
            Inner::Xls(book) => book
                .sheets_metadata()
                .iter()
                .map(|s| (s.name.clone(), s.visible != SheetVisible::Visible))
                .collect(),
            Inner::Csv { sheet } => vec![(sheet.clone(), false)],
        };
        pairs
            .into_iter()
            .map(|(name, hidden)| SheetInfo { name, hidden })
            .collect()
    }

    /// Finds the header, binds columns to `specs` and hands every non-empty
    /// row below it to `on_row`, one at a time. An error from `on_row` stops
    /// the read and comes back as `ReadError::Callback`. A sheet where no header
    /// matches is `TabularError::NoHeader`, which says what the sheet looks like.
    pub fn read_sheet<E>(
        &mut self,
        sheet: &str,
        specs: &[ColumnSpec],
        on_row: &mut dyn RowSink<E>,
    ) -> Result<SheetLayout, ReadError<E>> {
        let ctx = Ctx {
            file: self.file.clone(),
            sheet: sheet.to_string(),
            is_csv: matches!(self.inner, Inner::Csv { .. }),
            limits: self.limits,
        };
        match &mut self.inner {
            Inner::Xlsx(src) => read_xlsx(src, &ctx, specs, on_row),
            Inner::Xls(book) => read_xls(book, &ctx, specs, on_row),
            Inner::Csv { sheet: name } => {
                if name != sheet {
                    return Err(TabularError::UnknownSheet(sheet.to_string()).into());
                }
                read_csv(&self.path, &ctx, specs, on_row)
            }
        }
    }

    /// Only the header of `sheet`: the layout `read_sheet` would start with, or the error
    /// it would stop at (`TabularError::NoHeader` for a sheet to skip), reading no further
    /// than the rows searched for the header (an xlsx sheet's merged cells aside). For
    /// choosing which sheets to import before importing any.
    pub fn find_header(
        &mut self,
        sheet: &str,
        specs: &[ColumnSpec],
    ) -> Result<SheetLayout, TabularError> {
        struct Stop(SheetLayout);
        struct Probe;
        impl RowSink<Stop> for Probe {
            fn layout(&mut self, layout: &SheetLayout) -> Result<(), Stop> {
                Err(Stop(layout.clone()))
            }
            fn row(&mut self, _row: RawRow) -> Result<(), Stop> {
                Ok(())
            }
        }
        match self.read_sheet(sheet, specs, &mut Probe) {
            Err(ReadError::Callback(Stop(layout))) => Ok(layout),
            Err(ReadError::Tabular(e)) => Err(e),
            // Every read calls `layout` before it ends; this is only for completeness.
            Ok(layout) => Ok(layout),
        }
    }
}
