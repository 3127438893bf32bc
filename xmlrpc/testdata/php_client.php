<?php
// More PHP calls against the bridge: php php_client.php URL USER PASSWORD.
// Prints one JSON object with every decoded response.

function call($url, $user, $pass, $method, $params) {
    $ch = curl_init();
    curl_setopt($ch, CURLOPT_URL, $url);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, 1);
    curl_setopt($ch, CURLOPT_POST, 1);
    curl_setopt($ch, CURLOPT_HTTPHEADER, array("Content-Type: text/xml"));
    curl_setopt($ch, CURLOPT_USERPWD, "$user:$pass");
    curl_setopt($ch, CURLOPT_POSTFIELDS, xmlrpc_encode_request($method, $params));
    $response = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_HTTP_CODE);
    $decoded = xmlrpc_decode($response, "utf-8");
    return array("status" => $status, "fault" => is_array($decoded) && xmlrpc_is_fault($decoded), "response" => $decoded);
}

list(, $url, $user, $pass) = $argv;
$out = array(
    "per_command" => call($url, $user, $pass, "ul_show_contact", array("location", "012345")),
    "int_params" => call($url, $user, $pass, "fifo.execute", array("cmdname" => "echo", "cmdparams" => array(3600, "x"))),
    "no_cmdparams" => call($url, $user, $pass, "fifo.execute", array("cmdname" => "echo")),
    "latin1" => call($url, $user, $pass, "echo", array("M\xfcller")),
    "list_methods" => call($url, $user, $pass, "system.listMethods", null),
    "unknown" => call($url, $user, $pass, "nosuch", array()),
    "wrong_password" => call($url, $user, "wrong", "system.listMethods", null),
    "too_large" => call($url, $user, $pass, "echo", array(str_repeat("x", 2 << 20))),
);
echo json_encode($out, JSON_INVALID_UTF8_SUBSTITUTE), "\n";
