<?php
// The target's web page: proves Apache -> PHP 7.4 -> MariaDB works end to end.
// Health check: HTTP 200 and the row's text in the body.
mysqli_report(MYSQLI_REPORT_OFF);
$db = new mysqli('127.0.0.1', 'web', 'testbed-web', 'testbed', 3306);
if ($db->connect_errno) {
    http_response_code(500);
    echo "database error: " . htmlspecialchars($db->connect_error) . "\n";
    exit;
}
$res = $db->query('SELECT id, message FROM greeting ORDER BY id LIMIT 1');
$row = $res ? $res->fetch_assoc() : null;
if (!$row) {
    http_response_code(500);
    echo "database error: no row in testbed.greeting\n";
    exit;
}
?>
<!DOCTYPE html>
<html>
<head><title>testbed target</title></head>
<body>
<h1>testbed target</h1>
<p>PHP <?= PHP_VERSION ?>, row <?= (int)$row['id'] ?>: <span id="row"><?= htmlspecialchars($row['message']) ?></span></p>
</body>
</html>
