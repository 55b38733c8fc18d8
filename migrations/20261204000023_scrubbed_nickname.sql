-- A self-deleted (scrubbed) account keeps no nickname: the database holds no
-- words for people; the pages say who it was (labels::nickname).
ALTER TABLE users DROP CONSTRAINT users_nickname_check;
UPDATE users SET nickname = '' WHERE scrubbed_at IS NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_nickname_check
    CHECK (char_length(nickname) BETWEEN 1 AND 30 OR (scrubbed_at IS NOT NULL AND nickname = ''));
