// Option, info and code numbers from Debian 12's curl/curl.h (libcurl 7.88.1), each with its name.
// Only what the engine uses is listed.
namespace HoodyCurl.Requests.Native;

internal static class CurlOpt
{
    // long options (CURLOPTTYPE_LONG = 0)
    public const int LOW_SPEED_LIMIT = 19;
    public const int LOW_SPEED_TIME = 20;
    public const int NOPROGRESS = 43;
    public const int NOBODY = 44;
    public const int POST = 47;
    public const int FOLLOWLOCATION = 52;
    public const int FORBID_REUSE = 75;
    public const int SSL_VERIFYPEER = 64;
    public const int MAXREDIRS = 68;
    public const int HTTPGET = 80;
    public const int SSL_VERIFYHOST = 81;
    public const int NOSIGNAL = 99;
    public const int HTTPAUTH = 107;
    public const int TCP_NODELAY = 121;
    public const int TIMEOUT_MS = 155;
    public const int CONNECTTIMEOUT_MS = 156;
    public const int HTTP_CONTENT_DECODING = 158;
    public const int TCP_KEEPALIVE = 213;
    public const int TCP_KEEPIDLE = 214;
    public const int TCP_KEEPINTVL = 215;
    public const int BUFFERSIZE = 98;
    // object/string options (CURLOPTTYPE_OBJECTPOINT = 10000)
    public const int WRITEDATA = 10001;
    public const int READDATA = 10009;               // CURLOPTTYPE_CBPOINT + 9
    public const int URL = 10002;
    public const int CURLU = 10282;                  // a parsed URL handle (CURLOPTTYPE_OBJECTPOINT + 282)
    public const int PROXY = 10004;
    public const int RANGE = 10007;
    public const int ERRORBUFFER = 10010;
    public const int REFERER = 10016;
    public const int USERAGENT = 10018;
    public const int COOKIE = 10022;
    public const int HTTPHEADER = 10023;
    public const int HEADERDATA = 10029;
    public const int COOKIEFILE = 10031;
    public const int CUSTOMREQUEST = 10036;
    public const int XFERINFODATA = 10057;
    public const int SSLCERTTYPE = 10086;
    public const int SHARE = 10100;
    public const int ACCEPT_ENCODING = 10102;
    public const int COOKIELIST = 10135;
    public const int OPENSOCKETDATA = 10164;
    public const int CLOSESOCKETDATA = 10209;
    public const int COPYPOSTFIELDS = 10165;
    public const int USERNAME = 10173;
    public const int PASSWORD = 10174;
    public const int NOPROXY = 10177;
    public const int RESOLVE = 10203;
    public const int MIMEPOST = 10269;
    public const int PROTOCOLS_STR = 10318;
    public const int REDIR_PROTOCOLS_STR = 10319;
    public const int PREREQDATA = 10313;
    // function options (CURLOPTTYPE_FUNCTIONPOINT = 20000)
    public const int WRITEFUNCTION = 20011;
    public const int READFUNCTION = 20012;           // CURLOPTTYPE_FUNCTIONPOINT + 12
    public const int HEADERFUNCTION = 20079;
    public const int OPENSOCKETFUNCTION = 20163;
    public const int CLOSESOCKETFUNCTION = 20208;
    public const int XFERINFOFUNCTION = 20219;
    public const int PREREQFUNCTION = 20312;
    // curl_off_t options (CURLOPTTYPE_OFF_T = 30000)
    public const int MAXFILESIZE_LARGE = 30117;
    public const int POSTFIELDSIZE_LARGE = 30120;
}

/// <summary>The URL API (curl/urlapi.h): the part and the flags libcurl 7.88's own parse of CURLOPT_URL uses (lib/url.c).</summary>
internal static class CurlUrl
{
    public const int PART_URL = 0;                   // CURLUPART_URL
    public const uint NON_SUPPORT_SCHEME = 1 << 3;   // CURLU_NON_SUPPORT_SCHEME
    public const uint GUESS_SCHEME = 1 << 9;         // CURLU_GUESS_SCHEME
}

internal static class CurlInfo
{
    public const int EFFECTIVE_URL = 0x100000 + 1;      // CURLINFO_STRING + 1
    public const int CONTENT_TYPE = 0x100000 + 18;
    public const int PRIMARY_IP = 0x100000 + 32;
    public const int RESPONSE_CODE = 0x200000 + 2;      // CURLINFO_LONG + 2
    public const int REDIRECT_COUNT = 0x200000 + 20;
    public const int COOKIELIST = 0x400000 + 28;        // CURLINFO_SLIST + 28
    public const int SIZE_UPLOAD_T = 0x600000 + 7;      // CURLINFO_OFF_T + 7
    public const int SIZE_DOWNLOAD_T = 0x600000 + 8;
    public const int SPEED_DOWNLOAD_T = 0x600000 + 9;
    public const int SPEED_UPLOAD_T = 0x600000 + 10;
    public const int TOTAL_TIME_T = 0x600000 + 50;      // microseconds
    public const int NAMELOOKUP_TIME_T = 0x600000 + 51;
    public const int CONNECT_TIME_T = 0x600000 + 52;
    public const int PRETRANSFER_TIME_T = 0x600000 + 53;
    public const int STARTTRANSFER_TIME_T = 0x600000 + 54;
    public const int REDIRECT_TIME_T = 0x600000 + 55;
}

internal static class CurlShOpt
{
    public const int SHARE = 1;
    public const int LOCKFUNC = 3;
    public const int UNLOCKFUNC = 4;
    public const int LOCK_DATA_DNS = 3;
    public const int LOCK_DATA_SSL_SESSION = 4;
}

internal static class CurlAuth
{
    public const long BASIC = 1;
    public const long DIGEST = 2;
    public const long NEGOTIATE = 4;
    public const long NTLM = 8;
}

internal static class CurlCode
{
    public const int OK = 0;
    public const int UNSUPPORTED_PROTOCOL = 1;
    public const int URL_MALFORMAT = 3;
    public const int COULDNT_RESOLVE_HOST = 6;
    public const int COULDNT_CONNECT = 7;
    public const int PARTIAL_FILE = 18;
    public const int WRITE_ERROR = 23;
    public const int OPERATION_TIMEDOUT = 28;
    public const int SSL_CONNECT_ERROR = 35;
    public const int ABORTED_BY_CALLBACK = 42;
    public const int TOO_MANY_REDIRECTS = 47;
    public const int GOT_NOTHING = 52;
    public const int SEND_ERROR = 55;
    public const int RECV_ERROR = 56;
    public const int FILESIZE_EXCEEDED = 63;
}

/// <summary>curl_multi_setopt options (CURLMoption) and the socket-interface values of multi.h.</summary>
internal static class CurlMOpt
{
    public const int SOCKETFUNCTION = 20001;
    public const int SOCKETDATA = 10002;
    public const int TIMERFUNCTION = 20004;
    public const int TIMERDATA = 10005;
    public const int MAXCONNECTS = 6;
    public const int POLL_IN = 1;
    public const int POLL_OUT = 2;
    public const int POLL_REMOVE = 4;
    public const int CSELECT_IN = 1;
    public const int CSELECT_OUT = 2;
    public const int CSELECT_ERR = 4;
    public const int SOCKET_TIMEOUT = -1;
}

internal static class CurlConst
{
    public const nuint WRITEFUNC_PAUSE = 0x10000001;
    public const nuint READFUNC_PAUSE = 0x10000001;
    public const nuint READFUNC_ABORT = 0x10000000;
    public const int PAUSE_RECV = 1;
    public const int PAUSE_SEND = 4;
    public const int PAUSE_CONT = 0;
    public const int SOCKET_BAD = -1;
    public const int PREREQFUNC_OK = 0;
    public const int PREREQFUNC_ABORT = 1;
    public const int MSG_DONE = 1;
    public const long GLOBAL_ALL = 3;
    public const int ERROR_SIZE = 256;
    /// <summary>CURLVERSION_NOW for curl_version_info (CURLVERSION_TENTH in 7.88).</summary>
    public const int VERSION_NOW = 9;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
}
