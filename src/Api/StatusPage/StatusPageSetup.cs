namespace ModelService.Api.StatusPage;

internal static class StatusPageSetup
{
    /// <summary>GET / serves wwwroot/index.html: a static page whose script reads the public JSON API and draws each
    /// job's loss curves as inline SVG. It needs no key unless Auth:RequireKeyForReads is set.</summary>
    public static WebApplication UseStatusPage(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        return app;
    }
}
