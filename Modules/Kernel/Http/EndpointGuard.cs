// The one wrapper every module's routes use: an ApiErrorException becomes the contract's error body
// (docs/api.md D2); a store failure (SQLite, unreadable stored data) is logged and answered with the
// module's 500 STORAGE_ERROR.
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Kernel.Http;

public static partial class EndpointGuard
{
    public static RequestDelegate Wrap(Func<HttpContext, Task> handler, ApiError storageError, string logCategory) => async context =>
    {
        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (ApiErrorException e)
        {
            await e.Error.WriteAsync(context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SqliteException or InvalidDataException)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(logCategory);
            StoreFailed(logger, context.Request.Path.Value ?? "", e);
            await storageError.WriteAsync(context).ConfigureAwait(false);
        }
    };

    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "store failure while answering {Path}")]
    private static partial void StoreFailed(ILogger logger, string path, Exception exception);
}
