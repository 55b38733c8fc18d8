//! What can go wrong with accounts, in domain words. No Korean and no status
//! codes here: `handlers/errors.rs` maps each to both.

/// What is wrong with a value a person typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("email missing")]
    EmailMissing,
    #[error("email malformed")]
    EmailFormat,
    #[error("email used by another account")]
    EmailInUse,
    #[error("nickname missing")]
    NicknameMissing,
    #[error("nickname must be 2 to 20 characters")]
    NicknameLength,
    #[error("nickname has characters that cannot be used")]
    NicknameChars,
    #[error("password shorter than 10 characters")]
    PasswordTooShort,
    #[error("password too long")]
    PasswordTooLong,
    #[error("password is a common one")]
    PasswordCommon,
    #[error("password repeats one character")]
    PasswordRepeated,
    #[error("password contains the email's name")]
    PasswordHasEmailName,
    #[error("phone number malformed")]
    PhoneFormat,
    #[error("only Korean phone numbers")]
    PhoneNotKorean,
    #[error("introduction longer than 500 characters")]
    IntroductionTooLong,
    #[error("no role chosen")]
    RoleNotChosen,
    #[error("no staff role chosen")]
    StaffRoleNotChosen,
    #[error("an admin cannot demote themselves")]
    CannotDemoteSelf,
    #[error("wrong email or password")]
    BadLogin,
    #[error("wrong current password")]
    WrongCurrentPassword,
    #[error("wrong password")]
    WrongPassword,
    #[error("email does not match")]
    EmailMismatch,
    #[error("legal name missing")]
    LegalNameMissing,
    #[error("legal name must be 2 to 40 characters")]
    LegalNameLength,
    #[error("legal name has characters that cannot be used")]
    LegalNameChars,
    #[error("terms of use not agreed")]
    TermsNotAgreed,
    #[error("collection of personal information not agreed")]
    PrivacyNotAgreed,
    #[error("token name missing")]
    TokenNameMissing,
    #[error("token name longer than 40 characters")]
    TokenNameLength,
    #[error("token name has characters that cannot be used")]
    TokenNameChars,
    #[error("token scope not chosen")]
    TokenScopeNotChosen,
    #[error("token lifetime not one of those offered")]
    TokenLifetime,
    #[error("too many live tokens")]
    TooManyTokens,
}

/// Every field problem of one form, by form field name.
pub type Invalid = crate::text::Invalid<Problem>;

/// Why signing in with (or linking) an outside account failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInProblem {
    /// The sign-in took too long (state expired).
    Expired,
    /// The returned state is not the one we sent.
    StateMismatch,
    /// The state was spent already: a callback came twice.
    Replayed,
    /// The provider refused or did not answer the code exchange.
    Exchange,
    /// The provider's answer (ID token, profile) could not be verified.
    Unverified,
    /// The provider gave no email address.
    NoEmail,
    /// An account with that email exists and the provider did not verify it.
    EmailNotLinkable,
    /// This outside account is linked to another account here.
    LinkedElsewhere,
    /// The account has another account of this provider linked already.
    AlreadyLinked,
    /// The link was started for another account than the one signed in now.
    LinkForAnotherAccount,
    /// Nothing of this provider is linked to the account.
    NotLinked,
    /// Unlinking would leave the account no way to sign in.
    LastWayIn,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("not found")]
    NotFound,
    #[error("invalid form: {0:?}")]
    Invalid(Invalid),
    #[error("email already verified")]
    AlreadyVerified,
    /// The reset link expired or was used.
    #[error("reset link no longer valid")]
    ResetLinkInvalid,
    #[error("an admin cannot delete their own account here")]
    CannotDeleteSelf,
    #[error("an account its owner deleted cannot be restored")]
    CannotRestoreSelfDeleted,
    #[error("deleted or suspended account")]
    AccountClosed,
    #[error("{0} sign-in: {1:?}")]
    SignIn(crate::accounts::providers::Provider, SignInProblem),
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Hashing, encryption, mail rendering and other infrastructure failures.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AccountsError {
    pub fn field(field: &'static str, problem: Problem) -> Self {
        Self::Invalid(Invalid::one(field, problem))
    }
}

impl From<askama::Error> for AccountsError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(err.into())
    }
}

pub type AccountsResult<T> = Result<T, AccountsError>;
