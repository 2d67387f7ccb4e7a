/* http_resolve: files under the web root only, whatever the request path says. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "test.h"

static char base[PATH_MAX], root[PATH_MAX + 8];

static void write_file(const char *rel, const char *text)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", base, rel);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void make_tree(void)
{
    char tmpl[] = "/tmp/sobre-http-XXXXXX";
    char *d = mkdtemp(tmpl);
    realpath(d, base);
    snprintf(root, sizeof root, "%s/web", base);
    char p[PATH_MAX * 2];
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    write_file("secret.txt", "secret");
    write_file("web/index.html", "<p>hi</p>");
    write_file("web/app.js", "");
    write_file("web/.hidden", "");
    write_file("web/sub/x.css", "");
    snprintf(p, sizeof p, "%s/link", root);
    symlink("../secret.txt", p);
    snprintf(p, sizeof p, "%s/updir", root);
    symlink("..", p);
    snprintf(p, sizeof p, "%s/inside", root);
    symlink("app.js", p);
}

static void expect(const char *uri, int rc, const char *rel)
{
    char out[HTTP_PATH_MAX] = "";
    int got = http_resolve(root, uri, out, sizeof out);
    CHECK_INT(got, rc);
    if (got != rc) fprintf(stderr, "  for %s\n", uri);
    if (rel && got == 0) {
        char want[PATH_MAX * 2];
        snprintf(want, sizeof want, "%s/%s", root, rel);
        CHECK_STR(out, want);
    }
}

int main(void)
{
    make_tree();
    expect("/", 0, "index.html");
    expect("/index.html", 0, "index.html");
    expect("/app.js", 0, "app.js");
    expect("/sub/x.css", 0, "sub/x.css");
    expect("/r/assemblee", 0, "index.html");
    expect("/inside", 0, "app.js"); /* a symlink within the root is fine */
    expect("/missing.js", -404, NULL);
    expect("/sub", -404, NULL); /* directories are not listed */
    expect("/r/a/b", -404, NULL);
    expect("/../secret.txt", -403, NULL);
    expect("/sub/../../secret.txt", -403, NULL);
    expect("/./index.html", -403, NULL);
    expect("/.hidden", -403, NULL);
    expect("/%2e%2e/secret.txt", -403, NULL);
    expect("/..%2fsecret.txt", -403, NULL);
    expect("/sub\\..\\..\\secret.txt", -403, NULL);
    expect("/link", -403, NULL);
    expect("/updir/secret.txt", -403, NULL);
    expect("//etc/passwd", -404, NULL);
    expect("relative", -403, NULL);
    expect("", -403, NULL);

    CHECK_STR(http_mime_type("a/b.html"), "text/html; charset=utf-8");
    CHECK_STR(http_mime_type("app.JS"), "text/javascript; charset=utf-8");
    CHECK_STR(http_mime_type("style.css"), "text/css; charset=utf-8");
    CHECK_STR(http_mime_type("i.svg"), "image/svg+xml");
    CHECK_STR(http_mime_type("x.json"), "application/json");
    CHECK_STR(http_mime_type("noext"), "application/octet-stream");
    CHECK_STR(http_mime_type("dir.d/noext"), "application/octet-stream");

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    CHECK_INT(system(cmd), 0);
    TEST_END();
}
