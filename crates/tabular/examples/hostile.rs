//! Hostile files at full size, to see the reader refuse them and what that costs:
//!
//!     cargo run --release -p taizhang-tabular --example hostile -- bomb /tmp/bomb.xlsx [honest|lying|declined] [MB]
//!     cargo run --release -p taizhang-tabular --example hostile -- long-line /tmp/long.csv [MB]
//!     /usr/bin/time -v target/release/examples/hostile read /tmp/bomb.xlsx
//!
//! `bomb` writes an xlsx whose one shared string inflates to MB megabytes (1,500 by
//! default, about 1.6 MB on disk): `honest` with true zip headers, `lying` with headers
//! claiming 4 KB, `declined` lying and without the workbook's relationships, so that our
//! reader declines it and calamine's path (vetted first) is the one taken. `long-line`
//! writes a CSV whose third line is MB megabytes (100 by default). `read` opens a file and
//! reads its first sheet under the default limits, printing the outcome and the time; run
//! it under `/usr/bin/time -v` for its peak memory.

use std::convert::Infallible;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use taizhang_tabular::{open, ColumnSpec, RawRow};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match (arg(0), arg(1)) {
        (Some("bomb"), Some(path)) => {
            let mb = arg(3).and_then(|s| s.parse().ok()).unwrap_or(1500);
            bomb(Path::new(path), arg(2).unwrap_or("honest"), mb)
        }
        (Some("long-line"), Some(path)) => long_line(
            Path::new(path),
            arg(2).and_then(|s| s.parse().ok()).unwrap_or(100),
        ),
        (Some("read"), Some(path)) => read(Path::new(path)),
        _ => Err("usage: hostile bomb|long-line|read PATH …".into()),
    }
}

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

fn bomb(path: &Path, kind: &str, mb: u64) -> Res {
    let started = Instant::now();
    let mut zip = ZipWriter::new(BufWriter::new(File::create(path)?));
    let o = SimpleFileOptions::default().large_file(mb >= 4000);
    zip.start_file("[Content_Types].xml", o)?;
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#)?;
    if kind != "declined" {
        zip.start_file("xl/_rels/workbook.xml.rels", o)?;
        zip.write_all(RELS.as_bytes())?;
    }
    zip.start_file("xl/workbook.xml", o)?;
    zip.write_all(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>"#.as_bytes())?;
    zip.start_file("xl/sharedStrings.xml", o)?;
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#)?;
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..mb {
        zip.write_all(&chunk)?;
    }
    zip.write_all(b"</t></si></sst>")?;
    zip.start_file("xl/worksheets/sheet1.xml", o)?;
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#)?;
    zip.finish()?.flush()?;
    if kind != "honest" {
        let mut bytes = std::fs::read(path)?;
        claim_size(&mut bytes, b"xl/sharedStrings.xml", 4096);
        std::fs::write(path, bytes)?;
    }
    println!(
        "wrote {} ({:.1} MB, one shared string of {mb} MB, {kind}) in {:.1} s",
        path.display(),
        std::fs::metadata(path)?.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Rewrites the uncompressed size in the local and central headers of `entry`.
fn claim_size(bytes: &mut [u8], entry: &[u8], size: u32) {
    let mut i = 0;
    while i + 46 <= bytes.len() {
        let sig = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let at = match sig {
            0x0403_4b50 => Some((i + 22, i + 26, i + 30)),
            0x0201_4b50 => Some((i + 24, i + 28, i + 46)),
            _ => None,
        };
        if let Some((size_at, len_at, name_at)) = at {
            let len = usize::from(u16::from_le_bytes([bytes[len_at], bytes[len_at + 1]]));
            if bytes.get(name_at..name_at + len) == Some(entry) {
                bytes[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
        }
        i += 1;
    }
}

fn long_line(path: &Path, mb: usize) -> Res {
    let mut f = BufWriter::new(File::create(path)?);
    f.write_all("姓名,身份证号,村\n张三,431224198001010011,龙潭村\n李四,\"".as_bytes())?;
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..mb {
        f.write_all(&chunk)?;
    }
    f.write_all(b"\",x\n")?;
    f.flush()?;
    println!("wrote {} with a line of {mb} MB", path.display());
    Ok(())
}

fn read(path: &Path) -> Res {
    let specs = [
        ColumnSpec::new("name", &["姓名"]),
        ColumnSpec::new("id", &["身份证号"]),
        ColumnSpec::new("village", &["村"]),
    ];
    let started = Instant::now();
    let outcome = open(path).map_err(|e| e.to_string()).and_then(|mut src| {
        let sheet = src.sheet_names().into_iter().next().unwrap_or_default();
        let mut rows = 0u64;
        src.read_sheet(
            &sheet,
            &specs,
            &mut |_r: RawRow| -> Result<(), Infallible> {
                rows += 1;
                Ok(())
            },
        )
        .map(|_| rows)
        .map_err(|e| e.to_string())
    });
    let secs = started.elapsed().as_secs_f64();
    match outcome {
        Ok(rows) => println!("read {rows} rows in {secs:.3} s"),
        Err(e) => println!("refused in {secs:.3} s: {e}"),
    }
    Ok(())
}
