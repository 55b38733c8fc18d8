-- 200 generated courses (3 lectures x 3 topics each) beside the seeded
-- nano-degree, for catalogue benchmarks. Idempotent: slugs bench-NNN.
INSERT INTO courses (slug, title, summary, description, category, skill_level, price_won, published_at)
SELECT 'bench-' || lpad(i::text, 3, '0'),
       (ARRAY['실전 React', '파이썬 데이터 분석', 'SQL 튜닝', '도커와 쿠버네티스', '웹 접근성', 'Node.js API'])[1 + i % 6] || ' ' || i,
       '벤치마크용 코스 ' || i || ': 실무 예제로 배우는 웹 개발',
       '이 코스는 카탈로그 성능 측정을 위해 만들어졌습니다. 배포, 데이터베이스, 프론트엔드 예제를 다룹니다. 번호 ' || i,
       (ARRAY['frontend', 'backend', 'devops', 'tools', 'web-basics'])[1 + i % 5],
       (ARRAY['beginner', 'intermediate', 'advanced'])[1 + i % 3],
       (ARRAY[0, 15000, 45000, 120000, NULL])[1 + i % 5],
       now()
  FROM generate_series(1, 200) AS i
ON CONFLICT (slug) DO NOTHING;

INSERT INTO lectures (course_id, title, position, published_at)
SELECT c.id, '강의 ' || n, n, now()
  FROM courses c CROSS JOIN generate_series(1, 3) AS n
 WHERE c.slug LIKE 'bench-%'
   AND NOT EXISTS (SELECT 1 FROM lectures l WHERE l.course_id = c.id);

INSERT INTO topics (lecture_id, title, kind, duration_secs, position, published_at)
SELECT l.id, '토픽 ' || n, 'video', 300 + n * 60, n, now()
  FROM lectures l JOIN courses c ON c.id = l.course_id CROSS JOIN generate_series(1, 3) AS n
 WHERE c.slug LIKE 'bench-%'
   AND NOT EXISTS (SELECT 1 FROM topics t WHERE t.lecture_id = l.id);
