-- Per-course keywords and aliases, edited in the studio ("자바스크립트" for
-- JavaScript, "깃" for Git), in the search text; and the Hangul initial
-- consonants of the title and keywords, so "ㅈㅂㅅㅋㄹㅌ" finds them too.
ALTER TABLE courses ADD COLUMN keywords text NOT NULL DEFAULT '' CHECK (char_length(keywords) <= 300);

-- Each Hangul syllable becomes its initial consonant; anything else stays.
CREATE FUNCTION hangul_initials(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
               CASE WHEN ascii(ch) BETWEEN 44032 AND 55203
                    THEN substr('ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ', (ascii(ch) - 44032) / 588 + 1, 1)
                    ELSE ch END, '' ORDER BY i), '')
      FROM unnest(string_to_array(s, NULL)) WITH ORDINALITY AS c(ch, i)
$$;

DROP INDEX courses_search_trgm;
ALTER TABLE courses DROP COLUMN search_text;
ALTER TABLE courses ADD COLUMN search_text text GENERATED ALWAYS AS
    (lower(title || ' ' || summary || ' ' || description || ' ' || keywords)) STORED;
ALTER TABLE courses ADD COLUMN search_initials text GENERATED ALWAYS AS
    (hangul_initials(lower(title || ' ' || keywords))) STORED;
CREATE INDEX courses_search_trgm ON courses USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL;
