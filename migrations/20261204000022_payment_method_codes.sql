-- The database stores codes; pages put them into words (issue #18).
-- payments.method: the gateway and its own method name.
UPDATE payments SET method = CASE method
    WHEN '테스트 결제' THEN 'demo'
    WHEN '카카오페이 (카드)' THEN 'kakaopay:CARD'
    WHEN '카카오페이 (머니)' THEN 'kakaopay:MONEY'
    WHEN '카카오페이' THEN 'kakaopay'
    ELSE method END;
UPDATE payments SET method = 'toss:' || substring(method FROM '^토스페이먼츠 \((.*)\)$')
 WHERE method ~ '^토스페이먼츠 \(.*\)$';
