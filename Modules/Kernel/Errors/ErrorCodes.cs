namespace HoodyCurl.Kernel.Errors;

/// <summary>Every stable error code the service answers with; each is documented in the README.</summary>
public static class ErrorCodes
{
    public const string Validation = "VALIDATION_ERROR";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string SsrfBlocked = "SSRF_BLOCKED";
    public const string QueueFull = "QUEUE_FULL";
    public const string Timeout = "TIMEOUT";
    public const string UpstreamTimeout = "UPSTREAM_TIMEOUT";
    public const string UpstreamError = "UPSTREAM_ERROR";
    public const string ResponseTooLarge = "RESPONSE_TOO_LARGE";
    public const string UpstreamHeadersTooLarge = "UPSTREAM_HEADERS_TOO_LARGE";
    public const string NotFound = "NOT_FOUND";
    public const string Internal = "INTERNAL_ERROR";
    public const string StorageError = "STORAGE_ERROR";
    public const string JobNotFound = "JOB_NOT_FOUND";
    public const string JobResultNotReady = "JOB_RESULT_NOT_READY";
    public const string JobHasNoResult = "JOB_HAS_NO_RESULT";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string SessionNotFound = "SESSION_NOT_FOUND";
    public const string ScheduleNotFound = "SCHEDULE_NOT_FOUND";
    public const string FileNotFound = "FILE_NOT_FOUND";
    public const string InvalidCron = "INVALID_CRON";
    public const string SseCapacity = "SSE_CAPACITY";
    public const string TooManySessions = "TOO_MANY_SESSIONS";
}
