using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using TherapyCatalog.Tests.Reliability;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// Every log entry, written by the console formatter the application is configured with
/// (<c>Logging:Console:FormatterName</c>, with its options and the same scopes) into memory: the
/// lines the console would show, without sharing the process's console with other tests.
/// </summary>
public sealed class FormattedLogCapture(IServiceProvider services) : ILoggerProvider, ISupportExternalScope
{
    private readonly Lazy<ConsoleFormatter> _formatter = new(() =>
    {
        var name = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        return services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
    });

    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(FormattedLogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            using var line = new StringWriter();
            capture._formatter.Value.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), capture._scopes, line);
            capture.Lines.Enqueue(line.ToString());
        }
    }
}

public sealed class LogCapturingBusyPoolApiFactory : BusyPoolApiFactory
{
    public FormattedLogCapture Logs { get; private set; } = null!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(sp => Logs = new FormattedLogCapture(sp)));
    }
}

/// <summary>The service logs JSON lines, and a failed request's lines carry the trace id its problem document shows.</summary>
public class JsonLogTests(LogCapturingBusyPoolApiFactory api) : IClassFixture<LogCapturingBusyPoolApiFactory>
{
    [Fact]
    public async Task A_503_problem_s_traceId_is_in_the_json_log_line_that_explains_it()
    {
        var client = api.CreateClient();
        Assert.Equal("json", api.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        HttpResponseMessage answer;
        await using (await api.HoldThePoolAsync())
        {
            answer = await client.GetAsync($"/v1/therapies?condition=lymphoma&probe={Guid.NewGuid():N}");
        }

        var problem = await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.ServiceUnavailable);
        // W3C trace context: 00-<trace id>-<span id>-<flags>.
        var traceparent = problem.GetProperty("traceId").GetString()!.Split('-');
        Assert.Equal(4, traceparent.Length);
        var (traceId, spanId) = (traceparent[1], traceparent[2]);

        var explaining = api.Logs.Lines.Select(line => JsonDocument.Parse(line).RootElement)
            .Where(entry => entry.GetProperty("LogLevel").GetString() == "Warning"
                            && entry.GetProperty("Message").GetString()!.StartsWith("Database busy", StringComparison.Ordinal))
            .ToList();
        var entry = Assert.Single(explaining, e => e.GetProperty("Scopes").EnumerateArray()
            .Any(scope => scope.ValueKind == JsonValueKind.Object
                          && scope.TryGetProperty("TraceId", out var t) && t.GetString() == traceId
                          && scope.TryGetProperty("SpanId", out var s) && s.GetString() == spanId));
        Assert.Contains(entry.GetProperty("Scopes").EnumerateArray(), scope =>
            scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty("RequestPath", out var path) && path.GetString() == "/v1/therapies");
    }
}
