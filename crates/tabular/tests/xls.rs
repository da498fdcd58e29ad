//! .xls files written by hand (OLE container, BIFF8 records): a good one reads, and the
//! ones that would make calamine allocate without bound or loop are refused before it opens
//! them.

mod common;

use std::time::Instant;

use common::{assert_chinese, fail_with, read_all, specs, text, tmp};
use taizhang_tabular::{open, FileFormat, Limits, TabularError};

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FREESECT: u32 = 0xFFFF_FFFF;

fn record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend_from_slice(
        &u16::try_from(data.len())
            .expect("short record")
            .to_le_bytes(),
    );
    r.extend_from_slice(data);
    r
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn bof(kind: u16) -> Vec<u8> {
    let mut d = 0x0600u16.to_le_bytes().to_vec();
    d.extend_from_slice(&kind.to_le_bytes());
    d.resize(16, 0);
    record(0x0809, &d)
}

/// A BIFF8 workbook stream: one sheet 花名册 whose cells are `(row, col, shared string)`,
/// plus `extra` records in the sheet.
fn workbook_stream(strings: &[&str], cells: &[(u16, u16, u32)], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut sst = Vec::new();
    sst.extend_from_slice(&(cells.len() as u32).to_le_bytes());
    sst.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for s in strings {
        sst.extend_from_slice(&(s.encode_utf16().count() as u16).to_le_bytes());
        sst.push(1);
        sst.extend_from_slice(&utf16(s));
    }
    let name = "花名册";
    let sheet_record = |pos: u32| {
        let mut d = pos.to_le_bytes().to_vec();
        d.extend_from_slice(&[0, 0, name.encode_utf16().count() as u8, 1]);
        d.extend_from_slice(&utf16(name));
        record(0x0085, &d)
    };
    let globals_len =
        (bof(0x0005).len() + sheet_record(0).len() + record(0x00FC, &sst).len() + 4) as u32;
    let mut w = bof(0x0005);
    w.extend(sheet_record(globals_len));
    w.extend(record(0x00FC, &sst));
    w.extend(record(0x000A, &[]));
    w.extend(bof(0x0010));
    for (row, col, isst) in cells {
        let mut d = row.to_le_bytes().to_vec();
        d.extend_from_slice(&col.to_le_bytes());
        d.extend_from_slice(&0u16.to_le_bytes());
        d.extend_from_slice(&isst.to_le_bytes());
        w.extend(record(0x00FD, &d));
    }
    for r in extra {
        w.extend_from_slice(r);
    }
    w.extend(record(0x000A, &[]));
    // Past the mini-stream cutoff, so the stream lives in ordinary sectors.
    w.resize(w.len().max(4096), 0);
    w
}

/// An OLE container (512-byte sectors) holding `stream` as "Workbook": sector 0 the FAT,
/// sector 1 the directory, the stream from sector 2. Returns the bytes and the stream's
/// last sector.
fn container(stream: &[u8]) -> (Vec<u8>, u32) {
    let sectors = stream.len().div_ceil(512) as u32;
    assert!(sectors + 2 <= 128, "one FAT sector");
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let put16 =
        |h: &mut Vec<u8>, at: usize, v: u16| h[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 =
        |h: &mut Vec<u8>, at: usize, v: u32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut header, 0x18, 0x3E);
    put16(&mut header, 0x1A, 3);
    put16(&mut header, 0x1C, 0xFFFE);
    put16(&mut header, 0x1E, 9);
    put16(&mut header, 0x20, 6);
    put32(&mut header, 0x2C, 1);
    put32(&mut header, 0x30, 1);
    put32(&mut header, 0x38, 4096);
    put32(&mut header, 0x3C, ENDOFCHAIN);
    put32(&mut header, 0x44, ENDOFCHAIN);
    put32(&mut header, 0x4C, 0);
    for i in 1..109 {
        put32(&mut header, 0x4C + 4 * i, FREESECT);
    }
    let mut fat = vec![FREESECT; 128];
    fat[0] = 0xFFFF_FFFD;
    fat[1] = ENDOFCHAIN;
    for s in 0..sectors {
        fat[(2 + s) as usize] = if s + 1 == sectors { ENDOFCHAIN } else { 3 + s };
    }
    let mut dir = vec![0u8; 512];
    let mut entry = |slot: usize, name: &str, kind: u8, start: u32, size: u32| {
        let e = &mut dir[slot * 128..slot * 128 + 128];
        let n = utf16(name);
        e[..n.len()].copy_from_slice(&n);
        e[0x40..0x42].copy_from_slice(&((n.len() + 2) as u16).to_le_bytes());
        e[0x42] = kind;
        for at in [0x44, 0x48, 0x4C] {
            e[at..at + 4].copy_from_slice(&FREESECT.to_le_bytes());
        }
        e[0x74..0x78].copy_from_slice(&start.to_le_bytes());
        e[0x78..0x7C].copy_from_slice(&size.to_le_bytes());
    };
    entry(0, "Root Entry", 5, ENDOFCHAIN, 0);
    entry(1, "Workbook", 2, 2, stream.len() as u32);
    if let Some(root) = dir.get_mut(0x4C..0x50) {
        root.copy_from_slice(&1u32.to_le_bytes());
    }
    let mut out = header;
    out.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
    out.extend(dir);
    let mut body = stream.to_vec();
    body.resize(sectors as usize * 512, 0);
    out.extend(body);
    (out, 1 + sectors)
}

fn good_stream(extra: &[Vec<u8>]) -> Vec<u8> {
    workbook_stream(
        &[
            "姓名",
            "身份证号",
            "村",
            "张三",
            "431224198001010011",
            "龙潭村",
            "李四",
        ],
        &[
            (0, 0, 0),
            (0, 1, 1),
            (0, 2, 2),
            (1, 0, 3),
            (1, 1, 4),
            (1, 2, 5),
            (2, 0, 6),
            (2, 2, 5),
        ],
        extra,
    )
}

#[test]
fn a_hand_made_xls_reads() {
    let dir = tmp();
    let path = dir.path().join("花名册.xls");
    std::fs::write(&path, container(&good_stream(&[])).0).expect("write");
    assert_eq!(open(&path).expect("open").format(), FileFormat::Xls);
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.header_row, 1);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].cells[..3],
        [text("张三"), text("431224198001010011"), text("龙潭村")]
    );
    assert_eq!(rows[1].excel_row, 3);
}

#[test]
fn two_far_apart_values_are_refused_before_calamine_fills_the_rectangle_between() {
    let dir = tmp();
    let path = dir.path().join("far.xls");
    // One number in IV65536: calamine would make a 65,536 × 256 rectangle of cells.
    let mut number = 65535u16.to_le_bytes().to_vec();
    number.extend_from_slice(&255u16.to_le_bytes());
    number.extend_from_slice(&0u16.to_le_bytes());
    number.extend_from_slice(&1.0f64.to_le_bytes());
    std::fs::write(&path, container(&good_stream(&[record(0x0203, &number)])).0).expect("write");
    let started = Instant::now();
    let (err, _) = fail_with(&path, &specs(), Limits::default());
    assert!(started.elapsed().as_millis() < 2000);
    assert!(
        matches!(err, TabularError::XlsTooLarge { limit, .. } if limit == 256 << 20),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("文件「far.xls」是旧版 .xls 格式，打开它需要超过 256 MB 内存"),
        "{msg}"
    );
    assert_chinese(&msg, "far.xls");
    // A lower limit refuses even the good file; the default reads it (above).
    let good = dir.path().join("good.xls");
    std::fs::write(&good, container(&good_stream(&[])).0).expect("write");
    let (err, _) = fail_with(
        &good,
        &specs(),
        Limits {
            xls_bytes: 1000,
            ..Limits::default()
        },
    );
    assert!(
        matches!(err, TabularError::XlsTooLarge { limit: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn a_container_calamine_would_loop_on_or_grow_without_bound_is_refused() {
    let dir = tmp();
    let (bytes, last) = container(&good_stream(&[]));
    // The stream's last sector pointing back at itself; and a FAT sector past the file's end.
    let mut looping = bytes.clone();
    let at = 512 + 4 * last as usize;
    looping[at..at + 4].copy_from_slice(&last.to_le_bytes());
    let mut far = bytes;
    far[0x50..0x54].copy_from_slice(&0x0FFF_FFFFu32.to_le_bytes());
    for (name, bytes) in [("loop.xls", looping), ("far_sector.xls", far)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let started = Instant::now();
        let (err, _) = fail_with(&path, &specs(), Limits::default());
        assert!(started.elapsed().as_millis() < 2000);
        let msg = err.to_string();
        assert!(matches!(err, TabularError::Corrupt(_)), "{name}: {err:?}");
        assert!(
            msg.contains(&format!("文件「{name}」的内部结构有误")),
            "{msg}"
        );
        assert_chinese(&msg, name);
    }
}
