//! Where a public page's links point. The live site links by absolute path;
//! a static copy links relative to each page, so it reads the same served
//! from any prefix, and names its files whole (`incidents/7.html`) because a
//! plain object store has no directory index and no rewrites.

/// The link words a public page's templates are given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links {
    /// What comes before a path of the site: `/` live, `../` and so on in a copy.
    root: String,
    /// What follows a page's path: nothing live, `.html` in a copy.
    ext: &'static str,
    /// Where forms and the time-zone picker live: always the live site.
    live_root: String,
    /// What comes before `feed.atom`.
    feed_root: String,
    copy: bool,
}

impl Links {
    /// The live site's links, as they have always been.
    pub fn live(base_url: &str) -> Self {
        Self {
            root: "/".into(),
            ext: "",
            live_root: "/".into(),
            feed_root: base_url.to_owned(),
            copy: false,
        }
    }

    /// The links of a static copy's file `depth` folders below its top.
    pub fn copy(base_url: &str, depth: usize) -> Self {
        let root = "../".repeat(depth);
        Self {
            feed_root: root.clone(),
            root,
            ext: ".html",
            live_root: base_url.to_owned(),
            copy: true,
        }
    }

    /// The copy's links for the file at `path` (`incidents/7.html`).
    pub fn copy_at(base_url: &str, path: &str) -> Self {
        Self::copy(base_url, path.matches('/').count())
    }

    /// History page `n`, from this page.
    pub fn history(&self, n: u64) -> String {
        match (self.copy, n) {
            (true, 1) => format!("{}history.html", self.root),
            (true, n) => format!("{}history/{n}.html", self.root),
            (false, n) => format!("/history?page={n}"),
        }
    }

    pub fn insert_into(&self, ctx: &mut tera::Context) {
        ctx.insert("root", &self.root);
        ctx.insert("ext", self.ext);
        ctx.insert(
            "home",
            &if self.copy {
                format!("{}index.html", self.root)
            } else {
                "/".to_owned()
            },
        );
        ctx.insert("live_root", &self.live_root);
        ctx.insert("feed_root", &self.feed_root);
        ctx.insert("static_copy", &self.copy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_links_up_to_its_top() {
        let base = "https://status.example.com/";
        assert_eq!(Links::copy_at(base, "index.html").root, "");
        assert_eq!(Links::copy_at(base, "incidents/7.html").root, "../");
        let deep = Links::copy_at(base, "history/2.html");
        assert_eq!(deep.history(1), "../history.html");
        assert_eq!(deep.history(3), "../history/3.html");
        assert_eq!(Links::live(base).history(2), "/history?page=2");
    }
}
