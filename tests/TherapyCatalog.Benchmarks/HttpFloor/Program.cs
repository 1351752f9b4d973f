// The HTTP floor: the fastest this machine can answer the benchmark's request over loopback with
// ASP.NET Core, so API figures can be read as a fraction of it. It serves a captured response body
// (the bytes of GET /v1/therapies?condition=lymphoma from the real API) from memory, with the
// same content type and ETag, and answers 304 to a matching If-None-Match: no database, no
// serialisation, no middleware.
//
//   dotnet HttpFloor.dll <body-file> [etag] --urls http://127.0.0.1:5199
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var positional = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
if (positional.Length == 0)
{
    Console.Error.WriteLine("usage: HttpFloor <body-file> [etag] --urls http://127.0.0.1:<port>");
    return 2;
}

var body = await File.ReadAllBytesAsync(positional[0]);
var etag = positional.Length > 1 ? positional[1] : "\"floor\"";

app.Run(async http =>
{
    http.Response.Headers.ETag = etag;
    if (http.Request.Headers.IfNoneMatch == etag)
    {
        http.Response.StatusCode = StatusCodes.Status304NotModified;
        return;
    }

    http.Response.ContentType = "application/json; charset=utf-8";
    http.Response.ContentLength = body.Length;
    await http.Response.Body.WriteAsync(body);
});

await app.RunAsync();
return 0;
