//! Bar charts as inline SVG, drawn on the server: no script, no external library.

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Vertical bars with their values above and labels below. `texts` are the values as shown.
pub fn bars(labels: &[String], values: &[i64], texts: &[String]) -> String {
    let n = labels.len().max(1);
    let width = 640i64;
    let rotated = labels.len() > 8;
    let height = if rotated { 250i64 } else { 220i64 };
    let (left, bottom, top) = (10i64, if rotated { 64i64 } else { 36i64 }, 24i64);
    let plot_h = height - bottom - top;
    let slot = (width - 2 * left) / n as i64;
    let bar_w = (slot * 6 / 10).max(4);
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" font-size="12" font-family="sans-serif"><line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#dcdfe6"/>"##,
        y = height - bottom,
        x2 = width - left
    );
    for (i, label) in labels.iter().enumerate() {
        let v = values.get(i).copied().unwrap_or(0).max(0);
        let h = v * plot_h / max;
        let x = left + slot * i as i64 + (slot - bar_w) / 2;
        let y = height - bottom - h;
        let cx = x + bar_w / 2;
        let text = texts.get(i).cloned().unwrap_or_else(|| v.to_string());
        out.push_str(&format!(r##"<rect x="{x}" y="{y}" width="{bar_w}" height="{h}" fill="#3a7bd5"><title>{} {}</title></rect>"##, escape(label), escape(&text)));
        out.push_str(&format!(r##"<text x="{cx}" y="{}" text-anchor="middle" fill="#303133">{}</text>"##, y - 6, escape(&text)));
        let ly = height - bottom + 16;
        if rotated {
            out.push_str(&format!(r##"<text x="{cx}" y="{ly}" text-anchor="end" transform="rotate(-45 {cx} {ly})" fill="#606266">{}</text>"##, escape(label)));
        } else {
            out.push_str(&format!(r##"<text x="{cx}" y="{ly}" text-anchor="middle" fill="#606266">{}</text>"##, escape(label)));
        }
    }
    if labels.is_empty() {
        out.push_str(r##"<text x="320" y="120" text-anchor="middle" fill="#606266">暂无数据</text>"##);
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let svg = super::bars(&["甲<村".into(), "乙村".into()], &[5, 10], &["5".into(), "10".into()]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("甲&lt;村"));
        assert!(svg.contains(r#"height="160""#), "{svg}");
    }
}
