//! PURE. How long a backup rule's schedule may leave between two backups, from its
//! `ScheduleExpression` (`rate(…)` or AWS's six-field `cron(…)`). Anything not understood is
//! said so, never guessed: a schedule we cannot read cannot meet a frequency requirement.

/// The longest gap between two runs, in hours, or why the expression is not understood.
pub fn max_interval_hours(expr: &str) -> Result<f64, String> {
    let expr = expr.trim();
    if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return rate(body.trim());
    }
    if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return cron(body.trim());
    }
    Err(format!("`{expr}` is neither rate(...) nor cron(...)"))
}

fn rate(body: &str) -> Result<f64, String> {
    let mut parts = body.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("rate({body}) is not `rate(<n> <unit>)`"));
    };
    let n: f64 = n
        .parse::<u32>()
        .map_err(|_| format!("rate({body}): `{n}` is not a whole number"))?
        .into();
    match unit {
        "minute" | "minutes" => Ok(n / 60.0),
        "hour" | "hours" => Ok(n),
        "day" | "days" => Ok(n * 24.0),
        _ => Err(format!("rate({body}): unknown unit `{unit}`")),
    }
}

/// Values of one cron field within `0..=max` (or `lo..=max`), sorted.
fn field(text: &str, lo: u32, max: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(lo + i as u32);
        }
        s.parse::<u32>()
            .ok()
            .filter(|v| (lo..=max).contains(v))
            .ok_or_else(|| format!("`{s}`"))
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step, stepped) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step `{s}`"))?,
                true,
            ),
            None => (part, 1, false),
        };
        let (a, b) = match range {
            "*" => (lo, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // `a/step` runs from a to the field's maximum, every step: `5/1` is every hour
                // from 05:00, not once at 05:00.
                None if stepped => (value(r)?, max),
                None => (value(r)?, value(r)?),
            },
        };
        if a > b {
            return Err(format!("range `{range}`"));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The longest cyclic gap between sorted points on a circle of `period`.
fn max_gap(points: &[u32], period: u32) -> u32 {
    match points {
        [] => period,
        [_] => period,
        _ => {
            let inner = points.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
            let wrap = period - points[points.len() - 1] + points[0];
            inner.max(wrap)
        }
    }
}

fn cron(body: &str) -> Result<f64, String> {
    let f: Vec<&str> = body.split_whitespace().collect();
    let [minutes, hours, dom, month, dow, year] = f.as_slice() else {
        return Err(format!("cron({body}) does not have six fields"));
    };
    let not = |what: &str| format!("cron({body}): {what} is not understood");
    if *month != "*" || *year != "*" {
        return Err(not("a month or year restriction"));
    }
    let minutes = field(minutes, 0, 59, &[]).map_err(|e| not(&format!("minutes {e}")))?;
    let hours = field(hours, 0, 23, &[]).map_err(|e| not(&format!("hours {e}")))?;
    // The longest gap within a day of runs: at each listed hour, at each listed minute.
    let runs: Vec<u32> = hours
        .iter()
        .flat_map(|h| minutes.iter().map(move |m| h * 60 + m))
        .collect();
    let daily_gap_minutes = max_gap(&runs, 24 * 60);
    let days: Vec<u32> = match (*dom, *dow) {
        ("*" | "?", "*" | "?") => (0..7).collect(),
        ("?", d) => field(d, 1, 7, &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])
            .map_err(|e| not(&format!("day of week {e}")))?
            .into_iter()
            .map(|d| d - 1)
            .collect(),
        _ => return Err(not("a day-of-month schedule")),
    };
    if days.len() == 7 {
        return Ok(f64::from(daily_gap_minutes) / 60.0);
    }
    // Runs on some weekdays only: the longest gap spans from the last run of one running day to
    // the first run of the next.
    let first = runs.first().copied().unwrap_or(0);
    let last = runs.last().copied().unwrap_or(0);
    let day_gap = max_gap(&days, 7);
    let across = day_gap * 24 * 60 - (last - first);
    Ok(f64::from(across.max(daily_gap_minutes)) / 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_common_crons_are_read() {
        assert_eq!(max_interval_hours("rate(1 hour)"), Ok(1.0));
        assert_eq!(max_interval_hours("rate(12 hours)"), Ok(12.0));
        assert_eq!(max_interval_hours("rate(2 days)"), Ok(48.0));
        assert_eq!(max_interval_hours("rate(30 minutes)"), Ok(0.5));
        assert_eq!(max_interval_hours("cron(0 5 ? * * *)"), Ok(24.0));
        assert_eq!(max_interval_hours("cron(0 5,17 ? * * *)"), Ok(12.0));
        assert_eq!(max_interval_hours("cron(0 0/6 * * ? *)"), Ok(6.0));
        assert_eq!(max_interval_hours("cron(0 */8 ? * * *)"), Ok(8.0));
        // `5/1`: every hour from 05:00 to 23:00, so the longest gap is overnight, 23:00 to 05:00.
        assert_eq!(max_interval_hours("cron(0 5/1 ? * * *)"), Ok(6.0));
        assert_eq!(max_interval_hours("cron(0 0/1 ? * * *)"), Ok(1.0));
        assert_eq!(max_interval_hours("cron(0 6 ? * SUN *)"), Ok(168.0));
        assert_eq!(max_interval_hours("cron(0 6 ? * MON-FRI *)"), Ok(72.0));
        assert_eq!(max_interval_hours("cron(0 1,5 ? * 1,4 *)"), Ok(96.0 - 4.0));
    }

    #[test]
    fn what_is_not_understood_says_why() {
        for (expr, why) in [
            ("cron(0 5 1 * ? *)", "day-of-month"),
            ("cron(0 5 ? 1 * *)", "month or year"),
            ("cron(0 5 ? * * 2027)", "month or year"),
            ("cron(0 25 ? * * *)", "hours"),
            ("cron(0 5 ? * *)", "six fields"),
            ("rate(1 fortnight)", "unit"),
            ("at(2026-01-01T00:00:00)", "neither"),
        ] {
            let e = max_interval_hours(expr).unwrap_err();
            assert!(e.contains(why), "{expr}: {e}");
        }
    }
}
