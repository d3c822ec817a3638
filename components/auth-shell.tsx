import type { ReactNode } from "react";
import { Card, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";

/** The centred card every auth screen sits in: full width on a 320 px phone, 28 rem at most. */
export function AuthShell({ title, description, children, footer }: { title: string; description?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="flex flex-1 items-start justify-center px-3 py-8 sm:items-center sm:px-4 sm:py-12">
      <div className="w-full max-w-md space-y-5">
        <Card>
          <CardHeader>
            <CardTitle>{title}</CardTitle>
            {description ? <CardDescription>{description}</CardDescription> : null}
          </CardHeader>
          {children}
        </Card>
        {footer ? <p className="text-muted-foreground text-center text-sm">{footer}</p> : null}
      </div>
    </div>
  );
}
