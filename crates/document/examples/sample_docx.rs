//! Renders a realistic summary to every format, for checking the layout by eye:
//!
//! ```sh
//! cargo run -p taizhang-document --example sample_docx -- /tmp/doccheck
//! libreoffice --headless --convert-to pdf --outdir /tmp/doccheck /tmp/doccheck/*.docx
//! pdftoppm -png -r 60 /tmp/doccheck/sample.pdf /tmp/doccheck/page
//! ```

use std::path::PathBuf;

use taizhang_document::{parse_markup, to_docx, to_html, to_markdown, HtmlOptions, OfficialStyle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/doccheck".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let doc = parse_markup(include_str!("sample.md"));

    let style = OfficialStyle::default();
    std::fs::write(dir.join("sample.docx"), to_docx(&doc, &style)?)?;
    // LibreOffice cannot draw characters onto Word's character grid; this one is for it.
    let without_grid = OfficialStyle {
        char_grid: false,
        ..style
    };
    let no_grid_path = dir.join("sample-no-char-grid.docx");
    std::fs::write(&no_grid_path, to_docx(&doc, &without_grid)?)?;

    std::fs::write(dir.join("sample.md"), to_markdown(&doc))?;
    let page = HtmlOptions {
        standalone: true,
        link_figures: true,
    };
    std::fs::write(dir.join("sample.html"), to_html(&doc, &page))?;
    println!(
        "wrote sample.docx, sample-no-char-grid.docx, sample.md, sample.html to {}",
        dir.display()
    );
    Ok(())
}
