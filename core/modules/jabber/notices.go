package jabber

// The texts SER 0.9's gateway sent its SIP users as MESSAGEs
// (xjab_dmsg.h), word for word.
const (
	msgDisconnected = "INFO: Connection to Jabber server lost. You have to login to Jabber server again (join again the conferences that you were participating, too)."
	msgSendIM       = "ERROR: Your message was not sent. Connection to IM network failed."
	msgNotJConf     = "ERROR: Your message was not sent. You are not joined in the conference. Please join the room before sending messages."
	msgJConfExit    = "INFO: You have just left the conference."
	msgNoJSrv       = "ERROR: Your message was not sent. Cannot connect to Jabber server."
	msgJAuth        = "ERROR: Your message was not sent. Authentication to Jabber server failed."
	msgSendJMsg     = "ERROR: Your message was not sent. Something wrong during transmitting to Jabber network."
	msgJOffline     = "INFO: Your are now offline in Jabber network. Thank you for using SIP-Jabber gateway."
	msgJConfNick    = "ERROR: Your nickname already exists in the conference room. Please choose a new one."
	msgJConfRefused = "ERROR: Your participation to the conference room was refused."
)
