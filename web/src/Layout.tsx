import type { ReactNode } from 'react';

export function Layout({ page, children }: { page: 'shop' | 'pos' | 'portal'; children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className={`site-header${page === 'shop' ? '' : ' site-header--pos'}`}>
        <div className="site-header__inner">
          <a className="brand" href="/">
            <svg className="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
              <rect width="32" height="32" rx="7" fill="currentColor" />
              <path d="M7 12h18v13H7z" fill="#fff" />
              <path d="M5 9h22v4H5z" fill="#f4a259" />
              <path d="M15 9h2v16h-2z" fill="#e36414" />
            </svg>
            <span className="brand__name">Centre Gift Voucher</span>
          </a>
          <nav aria-label="Pages">
            <ul className="nav">
              <li><a href="/" aria-current={page === 'shop' ? 'page' : undefined}>Buy a voucher</a></li>
              <li><a href="/pos" aria-current={page === 'pos' ? 'page' : undefined}>POS terminal</a></li>
              <li><a href="/portal" aria-current={page === 'portal' ? 'page' : undefined}>Back office</a></li>
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" className={page === 'shop' ? 'main' : 'main main--wide'}>{children}</main>
      <footer className="site-footer">
        <p>Gift vouchers valid in all stores of the shopping centre.</p>
      </footer>
    </>
  );
}
