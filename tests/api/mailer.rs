//! `state.mailer`: real SMTP, failures classified, or .eml files without SMTP.
use lettre::Message;

use crate::helpers::spawn_app_with;
use crate::smtp_server::SmtpServer;

fn message(to: &str) -> Message {
    Message::builder()
        .from("status@example.com".parse().unwrap())
        .to(to.parse().unwrap())
        .subject("Hello")
        .body("Body text".to_owned())
        .unwrap()
}

#[tokio::test]
async fn mail_goes_over_smtp_and_failures_say_whether_to_retry() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(&[("SMTP_URL", &smtp.url())]).await;
    let mailer = &app.state.mailer;

    mailer.send(message("one@example.com")).await.unwrap();
    let got = smtp.wait_for(1).await;
    assert_eq!(got[0].to, vec!["one@example.com"]);
    assert_eq!(got[0].subject(), "Hello");

    smtp.reject_recipients(Some("550 5.1.1 no such user"));
    let e = mailer.send(message("two@example.com")).await.unwrap_err();
    assert!(!e.is_transient(), "5xx is permanent: {e}");
    smtp.reject_recipients(Some("451 4.3.0 try again later"));
    let e = mailer.send(message("two@example.com")).await.unwrap_err();
    assert!(e.is_transient(), "4xx is transient: {e}");
    smtp.reject_recipients(None);

    smtp.stop();
    let e = mailer.send(message("three@example.com")).await.unwrap_err();
    assert!(e.is_transient(), "a closed port is transient: {e}");
    smtp.restart().await;
    mailer.send(message("three@example.com")).await.unwrap();
    let got = smtp.wait_for(2).await;
    assert_eq!(got[1].to, vec!["three@example.com"]);
}

#[tokio::test]
async fn without_smtp_mail_is_written_as_eml_files() {
    let app = spawn_app_with(&[]).await;
    app.state
        .mailer
        .send(message("one@example.com"))
        .await
        .unwrap();
    let dir = app.dir.0.join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files[0]), 0o600, "a message is its owner's alone");
        assert_eq!(mode(&dir), 0o700);
    }
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("To: one@example.com"), "{text}");
    assert!(text.contains("Body text"));
}
