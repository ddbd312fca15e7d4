use crate::helpers::{spawn_app, texts};

#[tokio::test]
async fn the_demo_reads_as_the_seed_does() {
    let app = spawn_app().await;
    assert!(statuspost::demo::load(&app.db, false).await.unwrap());
    assert!(
        !statuspost::demo::load(&app.db, false).await.unwrap(),
        "running it twice adds nothing"
    );
    // The demo sets the page's zone for the next start; a fresh app reads it.
    let app = crate::helpers::spawn_app_on(app.database, app.dir, &[]).await;
    // Its author cannot sign in, so the next start still offers the first admin's link.
    assert!(
        app.setup_link.is_some(),
        "no first-admin link after the demo"
    );
    let demo = statuspost::store::incidents::recent(&app.db, 10)
        .await
        .unwrap();
    assert_eq!(demo.len(), 1);
    let html = app
        .get_html(&format!("/incidents/{}", demo[0].model.id))
        .await;
    assert_eq!(texts(&html, "p.date"), vec!["Thursday, February 28, 2008"]);
    assert_eq!(
        texts(&html, "h1"),
        vec!["Live Site Issue: File Names (Resolved)"]
    );
    assert_eq!(
        texts(&html, ".update-heading"),
        vec!["UPDATE 12:38 PM EST - Issue Resolved"]
    );
    assert_eq!(texts(&html, ".signature"), vec!["Shannon", "Shannon"]);
    let body = texts(&html, ".body");
    assert!(body[0].starts_with("We are working to resolve an issue with downloads"));
    assert!(body[0].ends_with("Regards,"));
    assert!(
        body[1].starts_with("The issue with the file names being the same has now been resolved.")
    );
    assert!(body[1].ends_with("Thank you for bearing with us during this hectic time,"));
    // What the post tells sellers of their data, in the box at its top.
    assert_eq!(
        texts(&html, ".integrity dd"),
        vec![
            "From Feb 28, 2008 6:00 AM EST to Feb 28, 2008 12:00 PM EST",
            "The backup of Feb 28, 2008 6:00 AM EST",
        ]
    );
    assert_eq!(
        texts(&html, ".integrity .loss"),
        vec!["Data loss confirmed"]
    );
    let actions = texts(&html, ".integrity ul.actions li");
    assert!(actions[1].contains("Add Download Email"), "{actions:?}");
    assert_eq!(
        texts(&html, ".milestones h2"),
        vec!["Recovery progress: 4 of 4 done"]
    );
    assert_eq!(
        texts(&html, ".milestones li.done time")[2],
        "Feb 28, 2008 12:10 PM EST"
    );
    // The day as our features tell it: the promise the first message made and
    // the late update that answered it, and the slip in the resolution,
    // corrected to the seed's words with what it first said kept.
    assert_eq!(
        texts(&html, ".promised"),
        vec!["Next update promised by 11:00 AM EST; it came at 12:38 PM EST"]
    );
    assert!(body[1].contains("earlier today 6:00 AM EST had the proper data"));
    assert_eq!(texts(&html, ".corrected"), vec!["Corrected 1:05 PM EST"]);
    let original = texts(&html, ".revisions .revision");
    assert_eq!(original.len(), 1, "{original:?}");
    assert!(
        original[0]
            .starts_with("As first posted, until Feb 28, 2008 1:05 PM EST (corrected by Shannon):"),
        "{original:?}"
    );
    assert!(original[0].contains("earlier today 6:00 PM EST had the proper data"));
    // And the staff's record of that day, at its own times, in the audit log.
    app.sign_in_admin().await;
    let audit = app.get_html("/admin/audit").await;
    let whats = texts(&audit, "td[data-label=What]");
    let whens = texts(&audit, "td[data-label=When]");
    let demo: Vec<(&str, &str)> = whens
        .iter()
        .zip(&whats)
        .filter(|(w, _)| w.contains("2008"))
        .map(|(w, s)| (w.as_str(), s.as_str()))
        .collect();
    assert_eq!(demo.len(), 7, "{whens:?} {whats:?}");
    assert!(demo[0].1.starts_with("Corrected update"), "{demo:?}");
    assert!(
        demo[1].1.starts_with("Posted an update (Issue Resolved)"),
        "{demo:?}"
    );
    assert!(
        demo[2]
            .1
            .starts_with("Marked the milestone Verify downloads and file names done"),
        "{demo:?}"
    );
    assert!(
        demo[6].1.starts_with("Published the incident, promising"),
        "{demo:?}"
    );
    assert!(texts(&audit, "td[data-label=Who]")
        .iter()
        .any(|w| w == "Shannon"));
    // A post of 2008 is history, not one of the front page's past days.
    let front = app.get_html("/").await;
    assert!(!front.contains("Live Site Issue"), "{front}");
    let history = app.get_html("/history").await;
    assert_eq!(
        texts(&history, "article h3"),
        vec!["Live Site Issue: File Names (Resolved)"]
    );
}
