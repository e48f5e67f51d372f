//! Aligned text tables that fit the terminal: when too wide, the columns that may shrink give way in the order given
//! and their cut cells end in "…".

/// Renders `rows` under `headers`, two spaces between columns, at most `width` characters a line if given.
/// `shrinkable` lists the columns that may be narrowed, most willing first.
pub fn render(headers: &[&str], rows: &[Vec<String>], width: Option<usize>, shrinkable: &[usize]) -> String {
    const GAP: usize = 2;
    const MIN: usize = 8;
    let len = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = headers.iter().map(|h| len(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(len(cell));
        }
    }
    if let Some(limit) = width {
        let total: usize = widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1);
        let mut excess = total.saturating_sub(limit);
        // Each column in turn gives way down to MIN before the next one is touched.
        for &i in shrinkable {
            let give = excess.min(widths[i].saturating_sub(MIN));
            widths[i] -= give;
            excess -= give;
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str(&" ".repeat(GAP));
            }
            text.push_str(&fit(cell, widths[i]));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// `text` padded or cut to exactly `width` characters.
fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text}{}", " ".repeat(width - count))
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["alice".into(), "/prod/ssh/very-long-secret-name".into(), "s-1".into()],
            vec!["bob".into(), "/db".into(), "s-22".into()],
        ]
    }

    #[test]
    fn columns_align_without_a_limit() {
        let text = render(&["USER", "SECRET", "ID"], &rows(), None, &[1]);
        assert_eq!(
            text,
            "USER   SECRET                           ID\n\
             alice  /prod/ssh/very-long-secret-name  s-1\n\
             bob    /db                              s-22\n"
        );
    }

    #[test]
    fn the_shrinkable_column_gives_way_to_fit() {
        let text = render(&["USER", "SECRET", "ID"], &rows(), Some(30), &[1]);
        for line in text.lines() {
            assert!(line.chars().count() <= 30, "{line:?}");
        }
        assert!(text.contains("alice  /prod/ssh/very-l…  s-1\n"), "{text}");
        assert!(text.contains("alice"), "unshrinkable columns stay whole");
    }

    #[test]
    fn too_narrow_a_terminal_keeps_minimum_widths() {
        let text = render(&["USER", "SECRET", "ID"], &rows(), Some(5), &[0, 1]);
        assert!(text.lines().nth(1).unwrap().starts_with("alice  /prod/s…  s-1"), "{text}");
    }
}
