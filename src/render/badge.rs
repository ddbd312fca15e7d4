//! A small SVG status badge in the familiar two-part style.
use crate::render::statuspage::Status;

/// Colour of the badge's right half for a Statuspage indicator.
fn colour(indicator: &str) -> &'static str {
    match indicator {
        "none" => "#2e7d32",
        "minor" => "#b7791f",
        "major" => "#c05621",
        _ => "#c53030",
    }
}

/// An estimate of the text's width in 11px Verdana, close enough to size the box.
fn width(text: &str) -> u32 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'I' | 'j' | '.' | ' ' | 't' | 'f' | 'r' => 4,
            'm' | 'w' | 'M' | 'W' => 10,
            c if c.is_uppercase() => 8,
            _ => 7,
        })
        .sum::<u32>()
        + 10
}

pub fn svg(label: &str, status: &Status) -> String {
    let esc = tera::escape_html;
    let (lw, rw) = (width(label), width(&status.description));
    let total = lw + rw;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{l}: {d}"><title>{l}: {d}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{rw}" height="20" fill="{c}"/><rect width="{total}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="14">{l}</text><text x="{rx}" y="14">{d}</text></g></svg>"##,
        l = esc(label),
        d = esc(&status.description),
        c = colour(&status.indicator),
        lx = lw / 2,
        rx = lw + rw / 2,
    )
}
