-- The database stores codes; pages put them into words (issue #18).
UPDATE jobs SET last_error = 'cancelled' WHERE last_error = '취소됨';
UPDATE jobs
   SET last_error = regexp_replace(last_error, '^시간 제한\((\d+)초\)을 넘겨 중단했습니다',
                                   'stopped after the time limit of \1 s')
 WHERE last_error LIKE '시간 제한(%';
UPDATE code_submissions SET message = 'compile_error' WHERE message = '코드에 문법 오류가 있습니다.';
UPDATE code_submissions SET message = 'grader_failed'
 WHERE message LIKE '채점기가 이 제출을 실행하지 못했습니다%';
