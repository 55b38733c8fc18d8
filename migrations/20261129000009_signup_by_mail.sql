-- Sign-up ends with the mailed verification link, which signs its owner in:
-- a session may now start from that link.
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_method_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_method_check
    CHECK (method IN ('password', 'google', 'email_link'));
