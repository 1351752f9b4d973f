using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Every failure leaves as an RFC 9457 problem document from here: handler results, unhandled
/// exceptions and bare status codes (404 for an unknown route, 405, 415 ...) alike.
/// </summary>
public static class Problems
{
    private static readonly Dictionary<int, string> Rfc9110Sections = new()
    {
        [400] = "15.5.1", [401] = "15.5.2", [403] = "15.5.4", [404] = "15.5.5", [405] = "15.5.6", [406] = "15.5.7", [408] = "15.5.9",
        [409] = "15.5.10", [410] = "15.5.11", [412] = "15.5.13", [413] = "15.5.14", [414] = "15.5.15", [415] = "15.5.16", [422] = "15.5.21",
        [500] = "15.6.1", [503] = "15.6.4",
    };

    /// <summary>A problem's <c>type</c> for an HTTP status: the RFC 9110 section that defines it (null when none does, as for 429).</summary>
    public static string? TypeOf(int status) =>
        Rfc9110Sections.TryGetValue(status, out var section) ? $"https://tools.ietf.org/html/rfc9110#section-{section}" : null;

    public const int RetryAfterSeconds = 2;

    public static IServiceCollection AddCatalogProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Detail ??= problem.Status is { } status ? DefaultDetail(status) : null;
            problem.Type ??= problem.Status switch
            {
                StatusCodes.Status429TooManyRequests => "https://www.rfc-editor.org/rfc/rfc6585#section-4",
                _ => "about:blank",
            };
            problem.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        // After the default writer: used when that one declines (see the class).
        services.AddSingleton<IProblemDetailsWriter, AlwaysProblemJsonWriter>();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }

    public static IApplicationBuilder UseCatalogProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>Answers <paramref name="status"/> with a problem document, from middleware or a handler that has no result to return.</summary>
    public static ValueTask WriteAsync(HttpContext http, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static string DefaultDetail(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request is malformed.",
        StatusCodes.Status404NotFound => "Nothing exists at this address. See /swagger for the API.",
        StatusCodes.Status405MethodNotAllowed => "This address does not accept that HTTP method.",
        StatusCodes.Status406NotAcceptable => "The representation asked for in Accept is not available.",
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than the service accepts.",
        StatusCodes.Status415UnsupportedMediaType => "The request body's Content-Type is not accepted here.",
        StatusCodes.Status500InternalServerError => "The service failed to answer. The failure is logged under the traceId.",
        StatusCodes.Status503ServiceUnavailable => "The catalog database cannot be reached. Retry shortly.",
        _ => ReasonPhrases.GetReasonPhrase(status),
    };

    /// <summary>
    /// Writes a problem as application/problem+json when the default writer declines because the
    /// request's Accept names no JSON type (Accept: text/csv on a failed request). What happened
    /// then was worse than ignoring Accept: a text/plain status page, a problem without the
    /// customisation (no traceId), or a 500 from the authentication handler. An error has no other
    /// representation, and API.md promises a problem document for every error. The type is the one
    /// the default writer gives (RFC 9110's section for the status).
    /// </summary>
    private sealed class AlwaysProblemJsonWriter(
        Microsoft.Extensions.Options.IOptions<ProblemDetailsOptions> options,
        Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            var http = context.HttpContext;
            var problem = context.ProblemDetails;
            problem.Status ??= http.Response.StatusCode;
            problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
            problem.Type ??= TypeOf(problem.Status.Value);
            options.Value.CustomizeProblemDetails?.Invoke(context);
            return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json", http.RequestAborted));
        }
    }

    /// <summary>
    /// When <paramref name="exception"/> means the database is busy (no connection came free in time)
    /// or cannot be reached: logs and counts it, sets <c>Retry-After</c>, and returns the 503's detail
    /// ("busy", or "cannot be reached"). Not a database failure: returns null and does nothing.
    /// Every answer that a database failure causes, JSON or FHIR, goes through here.
    /// </summary>
    public static string? DatabaseFailure(HttpContext context, Exception exception, ILogger logger)
    {
        var metrics = context.RequestServices.GetService<CatalogMetrics>();
        if (DatabaseBusy.IsBusy(exception, context.RequestServices.GetService<ChangeSignal>()))
        {
            logger.LogWarning("Database busy: {Message}", exception.Message);
            metrics?.DatabaseBusy();
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return DatabaseBusy.Detail(RetryAfterSeconds);
        }

        if (CatalogDatabase.IsUnavailable(exception))
        {
            logger.LogWarning("Database unavailable: {Message}", exception.Message);
            metrics?.DatabaseUnavailable();
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return DefaultDetail(StatusCodes.Status503ServiceUnavailable);
        }

        return null;
    }

    /// <summary>Maps exceptions to problems: database outages to 503, bad requests to their 4xx.</summary>
    private sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (DatabaseRefusal.Of(exception) is { } refusal)
            {
                logger.LogWarning("The database refused a value of {Member}: {Message}", refusal.Member, exception.Message);
                context.Response.StatusCode = refusal.Status;
                return await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [refusal.Member] = [refusal.Message] })
                    {
                        Status = refusal.Status,
                        Title = "The request body is invalid",
                        Detail = "See 'errors' for what is wrong, by JSON path.",
                    },
                });
            }

            int status;
            string? detail = null; // the status's default detail, unless set below
            if (exception is BadHttpRequestException badRequest)
            {
                status = badRequest.StatusCode;
            }
            else if (DatabaseFailure(context, exception, logger) is { } failure)
            {
                status = StatusCodes.Status503ServiceUnavailable;
                detail = failure;
            }
            else
            {
                // Handled exceptions are not logged by the middleware (.NET 10): this is the one place they are.
                logger.LogError(exception, "Unhandled exception answering {Method} {Path}", context.Request.Method, context.Request.Path);
                status = StatusCodes.Status500InternalServerError;
            }

            context.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = status,
                    Title = ReasonPhrases.GetReasonPhrase(status),
                    // A bad request's message says what was wrong with it; nothing else is shown.
                    Detail = exception is BadHttpRequestException ? exception.Message : detail,
                },
            });
        }
    }
}
