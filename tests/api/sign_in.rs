use crate::helpers::{client, csrf_token, spawn_app, texts, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn admin_pages_need_a_session() {
    let app = spawn_app().await;
    for path in [
        "/admin",
        "/admin/incidents/new",
        "/admin/components",
        "/admin/staff",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/admin/login?next="), "{path} -> {to}");
    }
}

#[tokio::test]
async fn sign_in_and_out() {
    let app = spawn_app().await;
    app.add_staff(ADMIN_EMAIL, "Shannon", ADMIN_PASSWORD, true)
        .await;
    let html = app.get_html("/admin/login").await;
    assert!(html.contains("<label for=\"email\">Email</label>"));
    assert!(html.contains("<label for=\"password\">Password</label>"));

    let res = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sp_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(app.get("/admin").await.status(), 200);

    let page = app.get_html("/admin").await;
    let res = app
        .client
        .post(app.url("/admin/logout"))
        .form(&[("csrf_token", csrf_token(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/admin").await.status(), 303);
}

#[tokio::test]
async fn wrong_password_is_refused_clearly() {
    let app = spawn_app().await;
    app.add_staff(ADMIN_EMAIL, "Shannon", ADMIN_PASSWORD, true)
        .await;
    let res = app.sign_in(ADMIN_EMAIL, "not the password").await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert_eq!(
        texts(&html, "[role=alert]"),
        vec!["That email and password did not match."]
    );
    // The email typed is kept; the password is never sent back.
    assert!(html.contains(&format!("value=\"{ADMIN_EMAIL}\"")));
    assert!(!html.contains("not the password"));
    let res = app.sign_in("nobody@example.com", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn repeated_failures_are_slowed_down() {
    let app = spawn_app().await;
    app.add_staff(ADMIN_EMAIL, "Shannon", ADMIN_PASSWORD, true)
        .await;
    for _ in 0..5 {
        assert_eq!(
            app.sign_in(ADMIN_EMAIL, "wrong password!").await.status(),
            401
        );
    }
    // Now even the right password must wait.
    let res = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins"));
}

#[tokio::test]
async fn a_forged_form_is_refused() {
    let app = spawn_app().await;
    app.add_staff(ADMIN_EMAIL, "Shannon", ADMIN_PASSWORD, true)
        .await;
    // Another site's page posting our form has no valid token.
    let res = client()
        .post(app.url("/admin/login"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("This form had expired"));
}

#[tokio::test]
async fn the_first_admin_is_made_from_a_one_time_link() {
    let app = spawn_app().await;
    let link = app
        .setup_link
        .clone()
        .expect("a setup link when there is no staff");
    assert!(link.starts_with(&app.address), "{link}");
    let path = link.trim_start_matches(&app.address).to_owned();
    let fields = [
        ("email", "owner@example.com"),
        ("name", "Owner"),
        ("password", "a long password"),
        ("password_confirm", "a long password"),
        ("timezone", "UTC"),
    ];

    // Mistakes come back with the text kept and the message by the field.
    let res = app
        .post_form(
            &path,
            &path,
            &[
                ("email", "owner@example.com"),
                ("name", "Owner"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"owner@example.com\""));
    assert_eq!(
        texts(&html, "#password-error"),
        vec!["The password must have at least 10 characters."]
    );

    let res = app.post_form(&path, &path, &fields).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.get("/admin/staff").await.status(),
        200,
        "the first account is an admin"
    );

    // Single use.
    let other = client();
    assert_eq!(other.get(&link).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn only_admins_manage_staff() {
    let app = spawn_app().await;
    app.add_staff("staff@example.com", "Sam", "a long password", false)
        .await;
    app.sign_in("staff@example.com", "a long password").await;
    assert_eq!(app.get("/admin").await.status(), 200);
    assert_eq!(app.get("/admin/staff").await.status(), 403);
}

#[tokio::test]
async fn admins_add_and_disable_staff() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app
        .post_form(
            "/admin/staff",
            "/admin/staff",
            &[
                ("email", "sam@example.com"),
                ("name", "Sam"),
                ("password", "another long one"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let sam = client();
    let page = sam
        .get(app.url("/admin/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = sam
        .post(app.url("/admin/login"))
        .form(&[
            ("csrf_token", csrf_token(&page).as_str()),
            ("email", "sam@example.com"),
            ("password", "another long one"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        sam.get(app.url("/admin")).send().await.unwrap().status(),
        200
    );

    // Disabling ends Sam's session at once.
    let sam_id = statuspost::store::staff::find_by_email(&app.db, "sam@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app
        .post_form("/admin/staff", &format!("/admin/staff/{sam_id}"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        sam.get(app.url("/admin")).send().await.unwrap().status(),
        303
    );

    // The last admin cannot remove their own admin rights.
    let me = statuspost::store::staff::find_by_email(&app.db, ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app
        .post_form(
            "/admin/staff",
            &format!("/admin/staff/{me}"),
            &[("active", "on")],
        )
        .await;
    assert_eq!(res.status(), 422);
}
