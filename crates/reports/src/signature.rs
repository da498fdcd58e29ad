//! The 落款 of a report: who issues it and when. The issuer follows the place the report is
//! for — a town's 人民政府, a village's 村民委员会 — and the date is the one the report is
//! dated (`--date`, else today), written as official documents write it: 2024年1月5日.

use chrono::{Datelike, NaiveDate};
use taizhang_document::Block;
use taizhang_domain::place::PlaceLevel;
use taizhang_storage::{places, Scope, Tx};

use crate::error::Result;

/// 成文日期: Arabic numerals, no leading zeros (GB/T 9704—2012).
pub fn written_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The body that issues a report for a place: 北斗溪镇 → 北斗溪镇人民政府, 坪溪村 → 坪溪村村民委员会,
/// a county → …县人民政府. A scope over everything (a county's server) with one town is that
/// town's; with several, none (empty).
pub async fn issuer(tx: &mut Tx, scope: &Scope) -> Result<String> {
    let last = scope.path.trim_end_matches('/').rsplit('/').next().and_then(|id| id.parse::<i64>().ok());
    let place = match last {
        Some(id) => Some(places::get(tx, id).await?),
        None => {
            let towns = places::towns(tx).await?;
            if towns.len() == 1 { towns.into_iter().next() } else { None }
        }
    };
    Ok(place.map_or_else(String::new, |p| match p.level {
        PlaceLevel::County | PlaceLevel::Town => format!("{}人民政府", p.name),
        PlaceLevel::Village => format!("{}村民委员会", p.name),
        PlaceLevel::Group => format!("{}村民小组", p.name),
    }))
}

/// The 落款 block for a report on `scope` dated `date`; `None` when no issuer can be named.
pub async fn block(tx: &mut Tx, scope: &Scope, date: NaiveDate) -> Result<Option<Block>> {
    let issuer = issuer(tx, scope).await?;
    Ok((!issuer.is_empty()).then(|| Block::Signature { issuer, date: written_date(date) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_official_documents_write_them() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(written_date(d(2024, 1, 5)), "2024年1月5日");
        assert_eq!(written_date(d(2023, 12, 31)), "2023年12月31日");
    }
}
