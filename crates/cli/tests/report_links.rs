//! `report` files that leave the application (issue 16, items 5 and 7), on the demo town: a
//! village's figure links name the village and the time point; without a base URL the HTML
//! file lists the `taizhang explain` command of each figure, and running it gives the
//! village's figure, not the town's; with one (`--link-base` or 系统网址) links are absolute;
//! Word's fonts and grid come from the options, else the settings, else the official default.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VILLAGE: &str = "431224110213"; // 龙潭村
const BASE: &str = "https://taizhang.example.gov.cn";

struct Demo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
}

fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().to_path_buf();
    let o = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .current_dir(&root)
        .env_remove("TAIZHANG_DB")
        .args(["demo", "--out", "演示", "--no-serve"])
        .output()
        .expect("run taizhang demo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let db = root.join("演示").join("taizhang.db");
    Demo { _dir: dir, root, db }
}

impl Demo {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_taizhang"))
            .current_dir(&self.root)
            .env("TAIZHANG_DB", &self.db)
            .env_remove("RUST_BACKTRACE")
            .args(args)
            .output()
            .expect("run taizhang")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}\n{}", String::from_utf8_lossy(&o.stderr), String::from_utf8_lossy(&o.stdout));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `report` for 2023, dated, into `name`, with `extra` options; the file's path.
    fn report(&self, name: &str, extra: &[&str]) -> PathBuf {
        let mut args = vec!["report", "--year", "2023", "--date", "2024-01-05", "-o", name];
        args.extend_from_slice(extra);
        self.ok(&args);
        self.path(name)
    }
}

fn part(docx: &Path, name: &str) -> String {
    let file = std::fs::File::open(docx).expect("docx");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut text = String::new();
    zip.by_name(name).expect("part").read_to_string(&mut text).expect("utf-8");
    text
}

fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(|h| h.replace("&amp;", "&")).collect()
}

/// The value of each indicator over `place` in 2023 (`indicators --json`).
fn values(demo: &Demo, place: Option<&str>) -> std::collections::BTreeMap<String, i64> {
    let mut args = vec!["indicators", "--year", "2023", "--json"];
    if let Some(p) = place {
        args.extend(["--place", p]);
    }
    let list: serde_json::Value = serde_json::from_str(&demo.ok(&args)).expect("json");
    list.as_array().expect("list").iter().map(|f| (f["key"].as_str().unwrap_or_default().to_string(), f["value"].as_i64().unwrap_or_default())).collect()
}

#[test]
fn a_village_report_from_disk_names_the_village_in_its_links_and_notes() {
    let demo = demo();
    let village = values(&demo, Some(VILLAGE));
    let town = values(&demo, None);

    // No base URL: notes, and no link that leaves the file.
    let html = std::fs::read_to_string(demo.report("村.html", &["--place", VILLAGE])).expect("html");
    assert!(html.contains("<section class=\"notes\">"), "{html}");
    for href in hrefs(&html) {
        assert!(href.starts_with("#note-"), "a dead link in a file: {href}");
    }
    let commands: Vec<String> = html
        .split("<li id=\"note-")
        .skip(1)
        .filter_map(|li| li.split("<code>").nth(1)?.split("</code>").next().map(str::to_string))
        .collect();
    assert!(commands.len() > 5, "{commands:?}");
    let mut differs_from_town = 0;
    for command in &commands {
        assert!(command.ends_with(&format!("--year 2023 --as-of 2023-12-31 --place {VILLAGE}")), "{command}");
        // Run as a clerk would (the words after `taizhang`), and read the figure.
        let words: Vec<&str> = command.split_whitespace().skip(1).chain(["--json"]).collect();
        let shown: serde_json::Value = serde_json::from_str(&demo.ok(&words)).expect("json");
        let key = shown["figure"]["key"].as_str().expect("key").to_string();
        let value = shown["figure"]["value"].as_i64().expect("value");
        assert_eq!(Some(&value), village.get(&key), "{command}: the village's figure");
        if town.get(&key) != Some(&value) {
            differs_from_town += 1;
        }
    }
    assert!(differs_from_town > 0, "some village figure differs from the town's, or the test proves nothing");

    // With a base URL: absolute links carrying the place's path and the time point.
    let html = std::fs::read_to_string(demo.report("村网址.html", &["--place", VILLAGE, "--link-base", "https://taizhang.example.gov.cn/"])).expect("html");
    let links = hrefs(&html);
    assert!(!links.is_empty());
    assert!(!html.contains("class=\"notes\""));
    for href in &links {
        assert!(href.starts_with(&format!("{BASE}/explain/")), "{href}");
        assert!(href.contains("year=2023&as_of=2023-12-31&place=/"), "{href}");
    }
    // The path in the link names the village: the CLI takes it for --place too.
    let place = links[0].split("place=").nth(1).and_then(|p| p.split('&').next()).expect("place").to_string();
    let code = demo.ok(&["indicators", "--year", "2023", "--place", &place, "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&code).expect("json"), serde_json::from_str::<serde_json::Value>(&demo.ok(&["indicators", "--year", "2023", "--place", VILLAGE, "--json"])).expect("json"));

    // The town's report (the console's, over everything): no place in the links.
    let html = std::fs::read_to_string(demo.report("镇.html", &["--link-base", BASE])).expect("html");
    assert!(hrefs(&html).iter().all(|h| h.contains("year=2023&as_of=2023-12-31") && !h.contains("place=")), "{html}");

    // Word: hyperlinks to the base, and none without one.
    let docx = demo.report("村.docx", &["--place", VILLAGE, "--link-base", BASE]);
    let rels = part(&docx, "word/_rels/document.xml.rels");
    assert!(rels.contains(&format!("Target=\"{BASE}/explain/")) && rels.contains("TargetMode=\"External\""), "{rels}");
    assert!(part(&docx, "word/document.xml").contains("<w:hyperlink r:id=\"rIdLink1\">"));
    let plain = demo.report("村无链接.docx", &["--place", VILLAGE]);
    assert!(!part(&plain, "word/document.xml").contains("w:hyperlink"));
    assert!(!part(&plain, "word/_rels/document.xml.rels").contains("hyperlink"));

    // 系统网址 as a setting; the option wins over it.
    demo.ok(&["setting", "set", "系统网址", "https://tz.example.cn/"]);
    let html = std::fs::read_to_string(demo.report("设置.html", &["--place", VILLAGE])).expect("html");
    assert!(hrefs(&html).iter().all(|h| h.starts_with("https://tz.example.cn/explain/")), "{html}");
    let html = std::fs::read_to_string(demo.report("选项.html", &["--place", VILLAGE, "--link-base", BASE])).expect("html");
    assert!(hrefs(&html).iter().all(|h| h.starts_with(&format!("{BASE}/explain/"))));
    let rels = part(&demo.report("设置.docx", &[]), "word/_rels/document.xml.rels");
    assert!(rels.contains("Target=\"https://tz.example.cn/explain/"), "{rels}");

    // Not a web address: refused, in Chinese, naming where it came from.
    let o = demo.run(&["report", "--year", "2023", "-o", "坏.html", "--link-base", "tz.example.cn"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--link-base的值「tz.example.cn」不是网址"), "{}", String::from_utf8_lossy(&o.stderr));
    demo.ok(&["setting", "set", "系统网址", "ftp://x"]);
    let o = demo.run(&["report", "--year", "2023", "-o", "坏.html"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("参数「系统网址」的值「ftp://x」不是网址"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The `rFonts` of one style in styles.xml, by its id.
fn style_font(styles: &str, id: &str) -> String {
    let at = styles.find(&format!("w:styleId=\"{id}\"")).expect("style");
    let rest = &styles[at..];
    let rest = &rest[rest.find("<w:rFonts w:ascii=\"").expect("fonts") + 19..];
    rest[..rest.find('"').expect("quoted")].to_string()
}

#[test]
fn fonts_and_grid_come_from_options_then_settings_then_the_default() {
    let demo = demo();
    let fonts = |docx: &Path| {
        let styles = part(docx, "word/styles.xml");
        ["Title", "Normal", "Heading1", "Heading2"].map(|id| style_font(&styles, id))
    };
    let grid = |docx: &Path| part(docx, "word/document.xml").contains("w:type=\"linesAndChars\"");

    let default = demo.report("默认.docx", &[]);
    assert_eq!(fonts(&default), ["方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"]);
    assert!(!grid(&default));

    demo.ok(&["setting", "set", "公文正文字体", "方正仿宋_GBK"]);
    demo.ok(&["setting", "set", "公文标题字体", "方正小标宋_GBK"]);
    demo.ok(&["setting", "set", "Word 报告使用文档网格", "是"]);
    let set = demo.report("设置.docx", &[]);
    assert_eq!(fonts(&set), ["方正小标宋_GBK", "方正仿宋_GBK", "黑体", "楷体_GB2312"]);
    assert!(grid(&set));
    // The font table names each with the fallback a machine without it uses.
    assert!(part(&set, "word/fontTable.xml").contains("<w:font w:name=\"方正仿宋_GBK\"><w:altName w:val=\"仿宋\"/>"));

    let opts = demo.report("选项.docx", &["--font-body", "仿宋", "--font-heading1", "方正黑体_GBK", "--font-heading2", "楷体", "--no-grid"]);
    assert_eq!(fonts(&opts), ["方正小标宋_GBK", "仿宋", "方正黑体_GBK", "楷体"]);
    assert!(!grid(&opts));

    demo.ok(&["setting", "set", "Word 报告使用文档网格", "否"]);
    assert!(grid(&demo.report("网格.docx", &["--grid", "--font-title", "小标宋"])));
    assert_eq!(fonts(&demo.path("网格.docx"))[0], "小标宋");

    // A cleared font setting is the default again.
    demo.ok(&["setting", "set", "公文正文字体", ""]);
    assert_eq!(fonts(&demo.report("清空.docx", &[]))[1], "仿宋_GB2312");

    let o = demo.run(&["report", "--year", "2023", "-o", "x.docx", "--grid", "--no-grid"]);
    assert!(!o.status.success(), "--grid and --no-grid together are refused");
}
