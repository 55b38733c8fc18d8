-- Watch events credit only time that really passed (#17.3). Each lesson page
-- carries a signed watch session (its page id and when the server handed it
-- out); each event carries its number in that session (`seq`) and, when the
-- player played up to it, where that stretch began (`played_from`). An event
-- is then a claim that stands alone: batches fold to the same result in any
-- order, and a repeated event (same page, same number) is stored once.
ALTER TABLE watch_events
    ADD COLUMN page_id uuid,
    ADD COLUMN seq integer CHECK (seq >= 0),
    ADD COLUMN played_from double precision CHECK (played_from >= 0),
    -- Where this event's credited seconds start: the credit is
    -- [credit_from, credit_from + credited] of the video.
    ADD COLUMN credit_from double precision CHECK (credit_from >= 0);
CREATE UNIQUE INDEX watch_events_page_seq_key ON watch_events (user_id, page_id, seq)
    WHERE page_id IS NOT NULL;

-- Events credited before: their credit ended where the player then was (or
-- where a seek began).
UPDATE watch_events
   SET credit_from = greatest(0, coalesce(CASE WHEN kind = 'seek' THEN seek_from END, position)
                                 - credited)
 WHERE credited > 0;

-- The resume position: within one page, the event with the highest number
-- (not the batch that arrived last: a beacon may land after a later fetch);
-- across pages, the latest to report.
ALTER TABLE topic_progress
    ADD COLUMN position_page uuid,
    ADD COLUMN position_seq integer;
