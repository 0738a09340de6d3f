namespace WalverBot.Configuration;

public static class ErrorHandling
{
    /// <summary>Unexpected failures answer a small JSON error, never a stack trace; the details go to the log.</summary>
    public static WebApplication UseWalverBotErrors(this WebApplication app)
    {
        app.UseExceptionHandler(error => error.Run(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsJsonAsync(new Webhooks.ErrorBody("internal error"));
        }));
        app.UseStatusCodePages(async context =>
        {
            // Answers without a body (unknown route, wrong method) get the same small JSON shape.
            var response = context.HttpContext.Response;
            if (!response.HasStarted && response.ContentLength is null && string.IsNullOrEmpty(response.ContentType))
            {
                await response.WriteAsJsonAsync(new Webhooks.ErrorBody(response.StatusCode == 404 ? "not found" : "request refused"));
            }
        });
        return app;
    }
}
