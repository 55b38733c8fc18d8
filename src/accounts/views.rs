use askama::Template;

use crate::labels as filters;
use crate::{
    accounts::{
        admin::UserPage,
        identities::Linked,
        model::Role,
        providers::Provider,
        repo::{AuditRow, UserRow},
        service::{Profile, SessionInfo},
    },
    web::{PageCtx, form::FormErrors},
};

#[derive(Default)]
pub struct SignupValues {
    pub email: String,
    pub nickname: String,
    pub agree_terms: bool,
    pub agree_privacy: bool,
}

#[derive(Template)]
#[template(path = "accounts/signup.html")]
pub struct SignupPage {
    pub ctx: PageCtx,
    pub values: SignupValues,
    pub errors: FormErrors,
    /// Where login leads after (the cart, for a visitor who chose to buy).
    pub next: String,
    /// The outside sign-ins offered beside the form.
    pub providers: Vec<Provider>,
}

/// The sign-up texts, asked of an account that has not agreed to them (a
/// Google sign-up).
#[derive(Template)]
#[template(path = "accounts/consents.html")]
pub struct ConsentsPage {
    pub ctx: PageCtx,
    pub next: String,
    pub values: SignupValues,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub email: String,
    pub next: String,
    pub errors: FormErrors,
    pub providers: Vec<Provider>,
}

/// A short page that says one thing (link used, mail sent, ...).
#[derive(Template)]
#[template(path = "accounts/message.html")]
pub struct MessagePage {
    pub ctx: PageCtx,
    pub title: String,
    pub message: String,
    pub link_href: String,
    pub link_label: String,
}

#[derive(Template)]
#[template(path = "accounts/password_reset_request.html")]
pub struct ResetRequestPage {
    pub ctx: PageCtx,
    pub email: String,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "accounts/password_reset_form.html")]
pub struct ResetFormPage {
    pub ctx: PageCtx,
    pub token: String,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "accounts/profile.html")]
pub struct ProfilePage {
    pub ctx: PageCtx,
    pub profile: Profile,
    pub sessions: Vec<SessionInfo>,
    pub errors: FormErrors,
    /// Ways to sign in: every provider configured or linked.
    pub sign_in_methods: Vec<SignInMethodRow>,
}

/// One outside sign-in on the account page.
pub struct SignInMethodRow {
    pub provider: Provider,
    pub linked: Option<Linked>,
    /// Configured here (a link can start); a linked provider no longer
    /// configured can still be unlinked.
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct AdminUsersPage {
    pub ctx: PageCtx,
    pub list: AdminUserList,
    pub new_user: NewStaffValues,
    pub errors: FormErrors,
}

#[derive(Default)]
pub struct NewStaffValues {
    pub email: String,
    pub nickname: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "admin/_user_list.html")]
pub struct AdminUserList {
    pub page: UserPage,
    pub q: String,
    pub role: String,
    pub include_deleted: bool,
    pub joined_from: String,
    pub joined_to: String,
    pub online: bool,
}

impl AdminUserList {
    pub fn roles(&self) -> &'static [Role] {
        Role::ALL
    }

    /// The list URL for another page, keeping the filters.
    pub fn page_href(&self, page: &i64) -> String {
        let mut query = self.filter();
        query.append_pair("page", &page.to_string());
        format!("/admin/users?{}", query.finish())
    }

    /// Every match as a CSV download.
    pub fn csv_href(&self) -> String {
        let mut query = self.filter();
        query.append_pair("format", "csv");
        format!("/admin/users?{}", query.finish())
    }

    fn filter(&self) -> url::form_urlencoded::Serializer<'static, String> {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("role", &self.role),
            ("joined_from", &self.joined_from),
            ("joined_to", &self.joined_to),
        ] {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        if self.include_deleted {
            query.append_pair("include_deleted", "on");
        }
        if self.online {
            query.append_pair("online", "on");
        }
        query
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct AdminUserPage {
    pub ctx: PageCtx,
    pub user: UserRow,
    pub audit: Vec<AuditRow>,
    pub errors: FormErrors,
    pub record: LearnerRecord,
}

/// What an admin sees of a person beyond the account, read from each
/// capability: orders, access, progress, missions, certificates, sign-ins.
pub struct LearnerRecord {
    /// Each order with the access it opened, until when.
    pub orders: Vec<(crate::commerce::model::Order, Option<time::OffsetDateTime>)>,
    /// What they hold (title, grant), latest first.
    pub holdings: Vec<(String, crate::learning::access::Holding)>,
    /// Progress per course they may study (title, progress).
    pub progress: Vec<(String, crate::learning::progress::CourseProgress)>,
    pub missions: Vec<crate::assessments::ResultLine>,
    pub certificates: Vec<crate::certificates::CertificateRow>,
    pub sessions: Vec<crate::accounts::service::SessionInfo>,
    pub last_sign_in: Option<time::OffsetDateTime>,
    /// The outside accounts linked (a password shows on the user row).
    pub linked: Vec<Linked>,
}

impl AdminUserPage {
    pub fn roles(&self) -> &'static [Role] {
        Role::ALL
    }
}

/// Asks the name a certificate shows (once; the nickname stays the site's name).
#[derive(Template)]
#[template(path = "accounts/legal_name.html")]
pub struct LegalNamePage {
    pub ctx: PageCtx,
    pub next: String,
    pub name: String,
    pub error: Option<&'static str>,
}
