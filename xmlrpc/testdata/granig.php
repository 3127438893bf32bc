<?php
// Andreas Granig's client from sr-users, 2005-02-10 (seed 000), verbatim;
// the test substitutes the URL. The line after it prints what it decoded.

   $url = "http://my.server:5080/xmlrpc";
   $method = "fifo.execute";
   $fifocmd = "ul_show_contact";
   $fifoparams = array("location", "012345");

   $ar = array("cmdname"=>$fifocmd,"cmdparams"=>$fifoparams);
   $request = xmlrpc_encode_request($method, $ar);

   $ch = curl_init();
   curl_setopt($ch, CURLOPT_URL, $url);
   curl_setopt($ch, CURLOPT_RETURNTRANSFER,1);
   curl_setopt($ch, CURLOPT_POST, 1);
   curl_setopt($ch, CURLOPT_POSTFIELDS, $request);

   $response = curl_exec($ch);
   $xmlar = xmlrpc_decode($response);
   if(xmlrpc_is_fault($xmlar))
   { /* fault processing, print the error */ }
   else
   { /* normal processing, print the response parameters etc */ }

echo json_encode(array("fault" => (bool)xmlrpc_is_fault($xmlar), "response" => $xmlar)), "\n";
